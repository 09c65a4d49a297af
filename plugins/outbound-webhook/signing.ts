import { createHmac, randomBytes } from 'node:crypto'

/*
 * Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>",
 * keyed with the secret's bytes. Secrets are `whsec_` + base64 of random bytes.
 */

export const SECRET_PREFIX = 'whsec_'
/** The specification asks for 24 to 64 bytes of key. */
export const MIN_SECRET_BYTES = 24
export const MAX_SECRET_BYTES = 64
const GENERATED_SECRET_BYTES = 32

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64')
}

/** The key bytes of a whsec_ secret, or null when it is not one. */
export function secretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null
  const encoded = secret.slice(SECRET_PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return null
  const key = Buffer.from(encoded, 'base64')
  return key.length >= MIN_SECRET_BYTES && key.length <= MAX_SECRET_BYTES ? key : null
}

export function isValidSecret(secret: string): boolean {
  return secretKey(secret) !== null
}

export interface SignedMessage {
  /** webhook-id */
  id: string
  /** webhook-timestamp: whole seconds since the epoch. */
  timestamp: number
  body: string
}

/** One `v1,<signature>` per secret, space-separated, as the webhook-signature header carries them. */
export function signatureHeader(message: SignedMessage, secrets: readonly string[]): string {
  return secrets.map((secret) => `v1,${sign(message, secret)}`).join(' ')
}

function sign({ id, timestamp, body }: SignedMessage, secret: string): string {
  const key = secretKey(secret)
  if (!key) throw new Error('not a whsec_ secret of 24 to 64 bytes')
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
}
