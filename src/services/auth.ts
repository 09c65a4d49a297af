import { createPrivateKey, createPublicKey, type KeyObject, randomUUID } from 'node:crypto'
import Jwt from '@hapi/jwt'
import type { Knex } from 'knex'
import type { User } from '../db/models/index.js'
import { ROLE_ID } from '../domain/constants.js'
import { RateLimitedError, UnauthorizedError } from '../domain/errors.js'
import { addressGroup } from '../util/address-list.js'
import type { ServiceContext } from './context.js'
import { dummyPasswordHash, verifyPassword } from './passwords.js'
import type { RateLimiter } from './rate-limit.js'

export const TOKEN_ISSUER = 'kronus'
/** What an access token is for: a token minted by this key for anything else is refused by the API. */
export const TOKEN_AUDIENCE = 'kronus-api'

/** A failed login pair is forgotten this long after its last failure. */
const LOGIN_FAILURE_MEMORY_MS = 24 * 3_600_000

export interface TokenClaims {
  sub: string
  iss: string
  aud: string
  /** The token's own id, which POST /v1/logout revokes. */
  jti: string
  /** The user's token version when it was issued. */
  ver: number
  first_name: string
  last_name: string
  is_admin: boolean
  iat: number
  exp: number
}

/** Who a valid token speaks for. */
export interface TokenHolder {
  userId: number
  isAdmin: boolean
  jti: string
  /** Expiry, epoch seconds. */
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
        aud: TOKEN_AUDIENCE,
        jti: randomUUID(),
        ver: user.token_version,
        first_name: user.first_name,
        last_name: user.last_name,
        is_admin: user.role_id === ROLE_ID.admin
      },
      { key: this.privateKey as unknown as string, algorithm: 'RS256' },
      { ttlSec: this.ctx.config.auth.accessTokenTtlMinutes * 60, now, header: { kid: this.keyId } }
    )
  }

  jwks(): { keys: Array<Record<string, unknown>> } {
    return { keys: [{ ...this.publicKey.export({ format: 'jwk' }), kid: this.keyId, alg: 'RS256', use: 'sig' }] }
  }

  /**
   * The holder of a token whose signature, issuer and audience were verified: refused once
   * it has expired, once its user is gone or has changed password or email since it was
   * issued (the version moved on), and once it was logged out.
   */
  async authenticate(claims: Partial<TokenClaims>): Promise<TokenHolder | undefined> {
    const { sub, exp, jti, ver } = claims
    if (typeof exp !== 'number' || exp * 1000 <= this.ctx.clock.now()) return undefined
    if (typeof jti !== 'string' || typeof ver !== 'number') return undefined
    const userId = Number(sub)
    if (!Number.isSafeInteger(userId)) return undefined
    // One round trip on every request: the user's version and role, and whether the token was logged out.
    const row: { token_version: number | string; role_id: number | string; revoked: string | null } | undefined =
      await this.ctx
        .knex('users')
        .leftJoin('revoked_tokens', 'revoked_tokens.jti', this.ctx.knex.raw('?', [jti]))
        .where('users.id', userId)
        .first('users.token_version', 'users.role_id', 'revoked_tokens.jti as revoked')
    if (!row || Number(row.token_version) !== ver || row.revoked !== null) return undefined
    return { userId, isAdmin: Number(row.role_id) === ROLE_ID.admin, jti, exp }
  }

  /**
   * Ends one token: its id is kept until the token would have expired anyway, in the
   * database, so that every instance refuses it. Expired entries are cleared on the way.
   */
  async logout(holder: TokenHolder, trx?: Knex.Transaction): Promise<void> {
    const db = trx ?? this.ctx.knex
    await db('revoked_tokens').where('expires_at', '<=', this.ctx.clock.now()).delete()
    await db('revoked_tokens')
      .insert({ jti: holder.jti, expires_at: holder.exp * 1000 })
      .onConflict('jti')
      .ignore()
  }

  /**
   * Checks a password under limits an attacker cannot turn against the owner. Failures are
   * counted per client, an (account, address) pair, an IPv6 address counting as its /64:
   * after `maxFailedLogins` of them each further attempt of that client waits 1 s, 2 s,
   * 4 s, ... up to `maxLoginDelayMinutes`, and one address may fail
   * `maxFailedLoginsPerAddress` times per window over all accounts. The owner's login from
   * an address that has not failed is never refused, whatever others did. Every attempt is
   * counted before the hash is checked, so simultaneous guesses cannot slip past together
   * (a success takes its count back). A failure for an unknown email costs the same hash as
   * a known one, so the reply leaks nothing.
   */
  async login(
    email: string,
    password: string,
    address: string,
    users: { findByEmail(email: string): Promise<User | undefined> }
  ): Promise<string> {
    const { maxFailedLoginsPerAddress, failedLoginWindowMinutes } = this.ctx.config.auth
    const group = addressGroup(address)
    const clientKey = `login:client:${email.toLowerCase()}|${group}`
    const addressKey = `login:address:${group}`
    const addressWait = await this.limiter.consume(
      addressKey,
      maxFailedLoginsPerAddress,
      failedLoginWindowMinutes * 60_000
    )
    if (addressWait > 0) throw tooManyFailedLogins(addressWait)
    const clientWait = await this.countClientAttempt(clientKey)
    if (clientWait > 0) {
      // Refused before its password was checked: no failure of this address.
      await this.limiter.release(addressKey)
      throw tooManyFailedLogins(clientWait)
    }

    const user = await users.findByEmail(email)
    const ok = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password)
    if (!user || !ok) throw new UnauthorizedError('invalid email or password')
    await this.ctx.knex('login_failures').where({ key: clientKey }).delete()
    await this.limiter.release(addressKey)
    return this.signToken(user)
  }

  /**
   * Counts one attempt of a client as a failure until it succeeds, and sets when its next
   * attempt may come. Returns 0 when this attempt may go ahead, else the seconds to wait.
   * The client's row is locked from the check to the count, so that simultaneous attempts
   * take their turns (SQLCipher runs one transaction at a time anyway).
   */
  private async countClientAttempt(key: string): Promise<number> {
    const { maxFailedLogins, maxLoginDelayMinutes } = this.ctx.config.auth
    return this.ctx.knex.transaction(async (trx) => {
      const now = this.ctx.clock.now()
      await trx('login_failures').where('expires_at', '<=', now).delete()
      await trx('login_failures')
        .insert({ key, failures: 0, blocked_until: 0, expires_at: now + LOGIN_FAILURE_MEMORY_MS })
        .onConflict('key')
        .ignore()
      const row = await trx('login_failures').where({ key }).forUpdate().first()
      const blockedUntil = Number(row.blocked_until)
      if (blockedUntil > now) return Math.max(1, Math.ceil((blockedUntil - now) / 1000))
      const failures = Number(row.failures) + 1
      const delayMs = loginDelayMs(failures, maxFailedLogins, maxLoginDelayMinutes * 60_000)
      await trx('login_failures')
        .where({ key })
        .update({ failures, blocked_until: delayMs > 0 ? now + delayMs : 0, expires_at: now + LOGIN_FAILURE_MEMORY_MS })
      return 0
    })
  }
}

/** The wait after a client's n-th failure: none before the `free`-th, then 1 s, 2 s, 4 s, ... up to `maxMs`. */
export function loginDelayMs(failures: number, free: number, maxMs: number): number {
  if (failures < free) return 0
  return Math.min(maxMs, 1000 * 2 ** Math.min(failures - free, 30))
}

function tooManyFailedLogins(waitSec: number): RateLimitedError {
  return new RateLimitedError(`too many failed logins; try again in ${waitSec} seconds`, waitSec)
}
