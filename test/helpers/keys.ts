import { generateKeyPairSync } from 'node:crypto'

let cached: string | undefined

/** One RSA key per test process: generating is slow and the key's value does not matter. */
export function testPrivateKeyPem(): string {
  cached ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return cached
}

export function otherPrivateKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
}
