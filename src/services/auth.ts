import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import Jwt from '@hapi/jwt'
import type { User } from '../db/models/index.js'
import { RateLimitedError, UnauthorizedError } from '../domain/errors.js'
import { ROLE_ID } from '../domain/constants.js'
import { dummyPasswordHash, verifyPassword } from './passwords.js'
import type { RateLimiter } from './rate-limit.js'
import type { ServiceContext } from './context.js'

export const TOKEN_ISSUER = 'kronus'
export const TOKEN_TTL_SEC = 24 * 60 * 60

export interface TokenClaims {
  sub: string
  iss: string
  first_name: string
  last_name: string
  is_admin: boolean
  iat: number
  exp: number
}

export class AuthService {
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  readonly keyId: string

  constructor(
    private readonly ctx: ServiceContext,
    private readonly limiter: RateLimiter
  ) {
    // A KeyObject, never the PEM string: @hapi/jwt would take a PEM string for an HMAC secret.
    this.privateKey = createPrivateKey(ctx.config.kronus.privateKeyPem)
    if (this.privateKey.asymmetricKeyType !== 'rsa') throw new Error('kronus.privateKeyPem must be an RSA private key')
    this.publicKey = createPublicKey(this.privateKey)
    const jwk = this.publicKey.export({ format: 'jwk' })
    this.keyId = `${jwk.n!.slice(0, 16)}`
  }

  signToken(user: User): string {
    const now = this.ctx.clock.now()
    return Jwt.token.generate(
      {
        sub: String(user.id),
        iss: TOKEN_ISSUER,
        first_name: user.first_name,
        last_name: user.last_name,
        is_admin: user.role_id === ROLE_ID.admin
      },
      { key: this.privateKey as unknown as string, algorithm: 'RS256' },
      { ttlSec: TOKEN_TTL_SEC, now, header: { kid: this.keyId } }
    )
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.keyId, alg: 'RS256', use: 'sig' }] }
  }

  /**
   * Checks a password, limited per account and per client address: every attempt is
   * counted before the hash is checked, so simultaneous guesses cannot slip past the
   * limit together. A success clears the account's count and takes back its own count
   * from the address. A failure for an unknown email costs the same hash as a known
   * one, so the reply leaks nothing.
   */
  async login(email: string, password: string, address: string, users: { findByEmail(email: string): Promise<User | undefined> }): Promise<string> {
    const { maxFailedLogins, failedLoginWindowMinutes } = this.ctx.config.auth
    const windowMs = failedLoginWindowMinutes * 60_000
    const accountKey = `login:account:${email.toLowerCase()}`
    const addressKey = `login:address:${address}`
    const wait = Math.max(
      await this.limiter.consume(accountKey, maxFailedLogins, windowMs),
      await this.limiter.consume(addressKey, maxFailedLogins, windowMs)
    )
    if (wait > 0) throw new RateLimitedError(`too many failed logins; try again in ${wait} seconds`, wait)

    const user = await users.findByEmail(email)
    const ok = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password)
    if (!user || !ok) throw new UnauthorizedError('invalid email or password')
    await this.limiter.reset(accountKey)
    await this.limiter.release(addressKey)
    return this.signToken(user)
  }
}
