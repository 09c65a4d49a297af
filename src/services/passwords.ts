import { hash, verify } from '@node-rs/argon2'

/*
 * argon2id at OWASP's second recommended setting (19 MiB, 2 passes): a login costs a few
 * tens of milliseconds of CPU here, where the first Kronus's bcrypt cost 14 took a second.
 */
const OPTIONS = { algorithm: 2 /* Algorithm.Argon2id, a const enum */, memoryCost: 19_456, timeCost: 2, parallelism: 1 }

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS)
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
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
