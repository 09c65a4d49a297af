import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync
} from 'node:fs'
import { join } from 'node:path'
import { fillAt, getAt, isAbsent, setAt } from './key-path.js'
import { ConfigError } from './resolve.js'
import type { KronusConfig, KronusConfigInput } from './types.js'

export const DEV_DIR = 'dev'
export const DEV_PRIVATE_KEY_FILE = 'private-key.pem'
export const DEV_PASSPHRASE_FILE = 'sqlite-passphrase'
export const DEV_TWILIO_AUTH_TOKEN_FILE = 'twilio-auth-token'

export function devDataDir(cwd: string): string {
  return join(cwd, DEV_DIR)
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

/** Reads a secret file, tightening it to owner-only if something loosened it. */
function readSecret(path: string): string {
  const text = readFileSync(path, 'utf8')
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600)
  return text
}

/**
 * Returns the secret kept at `path`, creating it on first use. It is written to a temp file
 * and linked into place, so a crash never leaves a half-written secret and two processes
 * starting at once end up with the same one.
 */
function readOrCreateSecret(path: string, create: () => string): string {
  try {
    return readSecret(path)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', 0o600)
  try {
    writeSync(fd, create())
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  } finally {
    unlinkSync(tmp)
  }
  return readSecret(path)
}

function generatePrivateKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
}

function generatePassPhrase(): string {
  return randomBytes(32).toString('base64url')
}

/** The dev RSA key, generated on first start and reused after, so no key ships in the source. */
export function devPrivateKeyPem(dir: string): string {
  const path = join(dir, DEV_PRIVATE_KEY_FILE)
  const pem = readOrCreateSecret(path, generatePrivateKeyPem)
  try {
    createPrivateKey(pem)
  } catch {
    throw new ConfigError(
      [`${path} is not a valid private key; delete it and a new one is generated at the next start`],
      'invalid dev secrets'
    )
  }
  return pem
}

/** The dev database passphrase, generated on first start and reused after. */
export function devPassPhrase(dir: string): string {
  const path = join(dir, DEV_PASSPHRASE_FILE)
  const passPhrase = readOrCreateSecret(path, generatePassPhrase).trim()
  if (passPhrase === '') {
    throw new ConfigError(
      [`${path} is empty; delete the whole ${dir} folder to start with a fresh dev database`],
      'invalid dev secrets'
    )
  }
  return passPhrase
}

/**
 * The token a dev server checks X-Twilio-Signature with when no twilio.authToken is set,
 * generated on first start and reused after: `kronus sms`, run in the same folder, signs
 * with it, so the Y/N loop can be tried without Twilio. Outside dev mode only a configured
 * Twilio auth token is ever accepted.
 */
export function devTwilioAuthToken(dir: string): string {
  const path = join(dir, DEV_TWILIO_AUTH_TOKEN_FILE)
  const token = readOrCreateSecret(path, () => randomBytes(24).toString('hex')).trim()
  if (token === '') {
    throw new ConfigError(
      [`${path} is empty; delete it and a new one is generated at the next start`],
      'invalid dev secrets'
    )
  }
  return token
}

/**
 * Dev behaviours on top of whatever the file and environment gave: data under ./dev, secrets
 * (the signing key, the passphrase, a Twilio auth token for signed webhooks) generated there
 * only for what is still missing, backups off (dev data must never overwrite
 * a real backup, nor a real backup replace dev data), readable logs, listening on loopback only.
 */
export function applyDevMode(
  input: KronusConfigInput,
  cwd: string,
  sources: Map<string, string>
): KronusConfigInput & { dataDir: string } {
  const dir = devDataDir(cwd)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  let out: KronusConfigInput = input
  if (isAbsent(getAt(out, ['kronus', 'privateKeyPem']))) {
    out = setAt(out, ['kronus', 'privateKeyPem'], devPrivateKeyPem(dir))
    sources.set('kronus.privateKeyPem', join(dir, DEV_PRIVATE_KEY_FILE))
  }
  if (getAt(out, ['database', 'client']) !== 'postgres' && isAbsent(getAt(out, ['kronus', 'sqlite', 'passPhrase']))) {
    out = setAt(out, ['kronus', 'sqlite', 'passPhrase'], devPassPhrase(dir))
    sources.set('kronus.sqlite.passPhrase', join(dir, DEV_PASSPHRASE_FILE))
  }
  if (isAbsent(getAt(out, ['twilio', 'authToken']))) {
    out = setAt(out, ['twilio', 'authToken'], devTwilioAuthToken(dir))
    sources.set('twilio.authToken', join(dir, DEV_TWILIO_AUTH_TOKEN_FILE))
  }
  out = setAt(out, ['google', 'storage', 'enableSqliteBackupAndSync'], false)
  out = fillAt(out, ['logging', 'pretty'], true)
  out = fillAt(out, ['kronus', 'listener', 'host'], '127.0.0.1')
  return { ...out, dataDir: dir }
}

/** Printed to stderr at every dev start; dev mode must never watch over a real person. */
export function devModeWarning(config: KronusConfig): string {
  const bar = '!'.repeat(78)
  const lines = [
    'KRONUS IS RUNNING IN DEVELOPMENT MODE (--dev).',
    'DO NOT USE IT FOR REAL PEOPLE: no text message is sent to anyone, so nobody is',
    'checked on and no emergency contact will ever be alerted. Outgoing messages are',
    'printed to stdout instead.',
    `Data and generated secrets are kept in ${config.dataDir}; backups are off.`
  ]
  return ['', bar, ...lines.map((l) => `!!  ${l}`), bar, ''].join('\n') + '\n'
}
