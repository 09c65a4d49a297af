import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fillAt, getAt, isAbsent, type KeyPath, setAt } from './key-path.js'
import { ConfigError } from './resolve.js'
import type { KronusConfigInput } from './types.js'

type Env = Readonly<Record<string, string | undefined>>

/** Secrets that may live in the environment instead of the file. A value in the file wins. */
export const SECRET_ENV_VARS: ReadonlyArray<{ name: string; path: KeyPath }> = [
  { name: 'KRONUS_PRIVATE_KEY_PEM', path: ['kronus', 'privateKeyPem'] },
  { name: 'KRONUS_SQLITE_PASSPHRASE', path: ['kronus', 'sqlite', 'passPhrase'] },
  { name: 'KRONUS_DATABASE_URL', path: ['database', 'connection'] },
  { name: 'KRONUS_HEARTBEAT_URL', path: ['kronus', 'heartbeat', 'url'] },
  { name: 'TWILIO_ACCOUNT_SID', path: ['twilio', 'accountSid'] },
  { name: 'TWILIO_AUTH_TOKEN', path: ['twilio', 'authToken'] },
  { name: 'TWILIO_MESSAGING_SERVICE_SID', path: ['twilio', 'messagingServiceSid'] },
  { name: 'TWILIO_CALLER_NUMBER', path: ['twilio', 'callerNumber'] },
  { name: 'KRONUS_METRICS_TOKEN', path: ['metrics', 'token'] },
  { name: 'GOOGLE_APPLICATION_CREDENTIALS', path: ['google', 'applicationCredentials'] }
]

const PRIVATE_KEY_PATH: KeyPath = ['kronus', 'privateKeyPem']

function envValue(env: Env, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value
}

/**
 * Fills secrets the file leaves out from the environment, recording in `sources` which
 * variable each came from so a validation error can name it.
 */
export function applySecretEnv(
  input: KronusConfigInput,
  env: Env,
  cwd: string,
  sources: Map<string, string>
): KronusConfigInput {
  let out = input
  for (const { name, path } of SECRET_ENV_VARS) {
    const value = envValue(env, name)
    if (value === undefined || !isAbsent(getAt(out, path))) continue
    out = setAt(out, path, value)
    sources.set(path.join('.'), name)
  }

  const keyFile = envValue(env, 'KRONUS_PRIVATE_KEY_FILE')
  if (keyFile !== undefined && isAbsent(getAt(out, PRIVATE_KEY_PATH))) {
    let pem: string
    try {
      pem = readFileSync(resolve(cwd, keyFile), 'utf8')
    } catch (err) {
      throw new ConfigError(
        [`KRONUS_PRIVATE_KEY_FILE: cannot read ${resolve(cwd, keyFile)} (${(err as Error).message})`],
        'invalid environment'
      )
    }
    out = setAt(out, PRIVATE_KEY_PATH, pem)
    sources.set(PRIVATE_KEY_PATH.join('.'), `KRONUS_PRIVATE_KEY_FILE (${keyFile})`)
  }

  // A connection string means PostgreSQL unless the file chose a client.
  if (!isAbsent(getAt(out, ['database', 'connection']))) out = fillAt(out, ['database', 'client'], 'postgres')
  return out
}

/** KRONUS_PORT wins over every other source, so one file can serve several ports. */
export function applyPortEnv(input: KronusConfigInput, env: Env, sources: Map<string, string>): KronusConfigInput {
  const raw = env.KRONUS_PORT
  if (raw === undefined || raw === '') return input
  const text = raw.trim()
  const port = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(port) || port > 65535) {
    throw new ConfigError([`KRONUS_PORT must be a whole number from 0 to 65535 (got "${raw}")`], 'invalid environment')
  }
  sources.set('kronus.listener.port', 'KRONUS_PORT')
  return setAt(input, ['kronus', 'listener', 'port'], port)
}
