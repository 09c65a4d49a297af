import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { hash, verify } from '@node-rs/argon2'
import { ValidationError } from '../domain/errors.js'
import { Semaphore } from '../util/semaphore.js'

/*
 * argon2id at OWASP's second recommended setting (19 MiB, 2 passes): a login costs a few
 * tens of milliseconds of CPU here, where the first Kronus's bcrypt cost 14 took a second.
 */
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id, a const enum */, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

/** NIST SP 800-63B, 5.1.1.2: at least 8 characters; at least 64 must be accepted, we take 128. */
export const PASSWORD_MIN_LENGTH = 8
export const PASSWORD_MAX_LENGTH = 128

/*
 * Every hash and verification of this process runs through one slot: argon2 runs on libuv's
 * thread pool, so without a bound a burst of logins or password changes would occupy every
 * core (and the threads that file and DNS work need) and starve the rest of the server.
 * Password work queues instead; it is rare, and the login limits keep the queue short.
 */
const passwordWork = new Semaphore(1)

/** Hashes and verifications running now (never more than the pool's size). */
export function passwordWorkInFlight(): number {
  return passwordWork.active
}

export function hashPassword(password: string): Promise<string> {
  return passwordWork.run(() => hash(password, OPTIONS))
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await passwordWork.run(() => verify(passwordHash, password))
  } catch {
    return false
  }
}

/** A hash to verify against when the account does not exist, so timing does not reveal which emails are registered. */
let dummyHash: Promise<string> | undefined
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword('kronus-dummy-password')
  return dummyHash
}

/*
 * data/common-passwords.txt (its header says where it comes from), found through the
 * package's own name so that it is read from src/ (tests) and from dist/src/ (the build) alike.
 */
let commonPasswords: Set<string> | undefined
function commonPasswordList(): Set<string> {
  if (!commonPasswords) {
    const root = dirname(createRequire(import.meta.url).resolve('kronus/package.json'))
    const lines = readFileSync(join(root, 'data', 'common-passwords.txt'), 'utf8').split('\n')
    commonPasswords = new Set(lines.filter((line) => line !== '' && !line.startsWith('#')))
  }
  return commonPasswords
}

/** Whether a password is on Kronus's list of common passwords (case does not matter). */
export function isCommonPassword(password: string): boolean {
  return commonPasswordList().has(password.toLowerCase())
}

/**
 * The password rules of NIST SP 800-63B: length in characters (code points, so an emoji
 * counts once) and not a common password. No composition rules: they make passwords
 * weaker, not stronger. Returns what is wrong, to follow the field's name, or undefined.
 */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters long`
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters long`
  if (isCommonPassword(password)) return 'is one of the most common passwords and easy to guess; choose another'
  return undefined
}

/** Throws a ValidationError naming `field` when the password breaks a rule of passwordProblem. */
export function assertAcceptablePassword(password: string, field = 'password'): void {
  const problem = passwordProblem(password)
  if (problem) throw new ValidationError(`"${field}" ${problem}`)
}
