import { createPrivateKey, generateKeyPairSync } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/*
 * Generating an RSA key costs 80-280 ms of CPU, and every test process needs one: the key
 * is generated once and kept in the temp folder, where the test processes of this run
 * and of later runs find it. Its value does not matter to any test.
 */
const KEY_FILE = join(tmpdir(), `kronus-test-key-${process.getuid?.() ?? 'user'}.pem`)

let cached: string | undefined

function generatePem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
}

function readKeptKey(): string | undefined {
  try {
    const pem = readFileSync(KEY_FILE, 'utf8')
    createPrivateKey(pem)
    return pem
  } catch {
    return undefined
  }
}

/** Writes to a file of this process's own, then renames: parallel test processes never read half a key. */
function keepKey(pem: string): string {
  const temp = `${KEY_FILE}.${process.pid}`
  writeFileSync(temp, pem, { mode: 0o600 })
  renameSync(temp, KEY_FILE)
  return pem
}

/** The one RSA key of the test runs. */
export function testPrivateKeyPem(): string {
  cached ??= readKeptKey() ?? keepKey(generatePem())
  return cached
}

export function otherPrivateKeyPem(): string {
  return generatePem()
}
