import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Knex } from 'knex'
import { User } from '../db/models/index.js'
import { NotFoundError, RateLimitedError } from '../domain/errors.js'
import { inTransaction, type ServiceContext } from './context.js'
import type { RateLimiter } from './rate-limit.js'

/** What the check-in link needs of the probe lifecycle: the same answer a Y text gives. */
export interface LinkCheckIns {
  /** Ends the user's waiting check-in as OK (via the link); false when none was waiting. */
  answerByLink(userId: number, trx?: Knex.Transaction): Promise<boolean>
}

/**
 * Presses of the public check-in routes allowed per window: per address (someone trying
 * tokens) and per token (a shortcut or home-automation ping gone wrong). A ping every
 * five minutes stays well within them.
 */
export const CHECKIN_LINK_LIMITS = {
  windowMs: 60 * 60_000,
  perAddress: 60,
  perToken: 30
} as const

/** 256 random bits, base64url: far past guessing. */
const TOKEN_BYTES = 32
/** Compared against when no row matched, so a wrong token does the same work as a right one. */
const NO_MATCH = Buffer.alloc(32)

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

export interface CreatedCheckinLink {
  /** The full URL, `<kronus.publicUrl>/c/<token>`; shown this once. */
  url: string
  /** The same without the server's address. */
  path: string
  /** True when an older link of the user stopped working. */
  rotated: boolean
}

/** What a press of the link did (the page says "Thanks, recorded" either way). */
export type PressOutcome = 'check_in_answered' | 'proof_of_life'

/**
 * A user's check-in link: a secret URL whose press answers their waiting check-in as OK,
 * or, with none waiting, is kept as proof of life (see ProbeLifecycle: it answers the next
 * scheduled check-in in advance when it falls within checkin_window_minutes). Only the
 * token's SHA-256 is stored; the token is shown once, when created.
 */
export class CheckinLinkService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly limiter: RateLimiter,
    private readonly checkIns: LinkCheckIns
  ) {}

  /** Creates the user's link, or replaces it (the old one then answers 404). */
  async create(userId: number, trx?: Knex.Transaction): Promise<CreatedCheckinLink> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const user = await User.query(trx).findById(userId).forUpdate()
      if (!user) throw new NotFoundError(`user ${userId} not found`)
      const token = randomBytes(TOKEN_BYTES).toString('base64url')
      const now = this.ctx.clock.now()
      const rotated = Boolean(await trx('checkin_links').where({ user_id: userId }).first('id'))
      await trx('checkin_links')
        .insert({ user_id: userId, token_hash: hashToken(token).toString('hex'), created_at: now })
        .onConflict('user_id')
        .merge(['token_hash', 'created_at'])
      await this.ctx.events.record(trx, 'checkin_link.created', { userId, rotated })
      const path = `/c/${token}`
      return { url: `${this.ctx.config.kronus.publicUrl.replace(/\/+$/, '')}${path}`, path, rotated }
    })
  }

  /** Revokes the user's link; 404 when they have none. */
  async revoke(userId: number, trx?: Knex.Transaction): Promise<void> {
    const removed = await (trx ?? this.ctx.knex)('checkin_links').where({ user_id: userId }).delete()
    if (removed !== 1) throw new NotFoundError(`user ${userId} has no check-in link`)
  }

  /**
   * Whether `token` is a live link, without acting on it (the page's GET). Rate-limited
   * like a press; 404 for a wrong token.
   */
  async check(token: string, address: string): Promise<void> {
    await this.#limit(token, address)
    await this.#userOf(token, this.ctx.knex)
  }

  /**
   * A press of the link: answers the user's waiting check-in, or keeps proof of life.
   * A wrong token is a 404 after the same hashing and the same single indexed read as a
   * right one; too many presses from one address or of one token are a 429.
   */
  async press(token: string, address: string): Promise<PressOutcome> {
    // Counted in their own transactions, before the press's: a 404 still counts.
    await this.#limit(token, address)
    return inTransaction(this.ctx.knex, undefined, async (trx) => {
      const userId = await this.#userOf(token, trx)
      if (await this.checkIns.answerByLink(userId, trx)) return 'check_in_answered'
      const at = this.ctx.clock.now()
      await trx('checkin_links').where({ user_id: userId }).update({ proof_of_life_at: at })
      await this.ctx.events.record(trx, 'checkin.proof_of_life', { userId, at })
      return 'proof_of_life'
    })
  }

  /** Counts the request against its address, then its token (by hash: never the token itself). */
  async #limit(token: string, address: string): Promise<void> {
    const { windowMs, perAddress, perToken } = CHECKIN_LINK_LIMITS
    const addressWait = await this.limiter.consume(`checkin-link:address:${address}`, perAddress, windowMs)
    if (addressWait > 0) throw new RateLimitedError('too many check-in link requests from this address', addressWait)
    const key = hashToken(token).toString('hex')
    const tokenWait = await this.limiter.consume(`checkin-link:token:${key}`, perToken, windowMs)
    if (tokenWait > 0) throw new RateLimitedError('too many requests for this check-in link', tokenWait)
  }

  /** The link's user: always one hash and one read of the unique index, then a constant-time compare. */
  async #userOf(token: string, db: Knex | Knex.Transaction): Promise<number> {
    const hash = hashToken(token)
    const row = await db('checkin_links')
      .select('user_id', 'token_hash')
      .where({ token_hash: hash.toString('hex') })
      .first()
    const stored = row ? Buffer.from(String(row.token_hash), 'hex') : NO_MATCH
    const matches = stored.length === hash.length && timingSafeEqual(stored, hash)
    if (!row || !matches) throw new NotFoundError('no such check-in link')
    return Number(row.user_id)
  }
}
