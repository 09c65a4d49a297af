import type { Knex } from 'knex'
import type { ServiceContext } from './context.js'

/**
 * Fixed-window counters kept in the database, so every instance sees the same count and
 * a restart does not reset an attacker's budget.
 */
export class RateLimiter {
  constructor(private readonly ctx: ServiceContext) {}

  /** Seconds until `key` may try again, or 0 when it is under `limit`. */
  async retryAfter(key: string, limit: number, trx?: Knex.Transaction): Promise<number> {
    const row = await (trx ?? this.ctx.knex)('rate_limits').where({ key }).first()
    const now = this.ctx.clock.now()
    if (!row || Number(row.reset_at) <= now || row.count < limit) return 0
    return Math.ceil((Number(row.reset_at) - now) / 1000)
  }

  async hit(key: string, windowMs: number, trx?: Knex.Transaction): Promise<void> {
    const db = trx ?? this.ctx.knex
    const now = this.ctx.clock.now()
    await db('rate_limits').where('key', key).where('reset_at', '<=', now).delete()
    await db('rate_limits')
      .insert({ key, count: 1, reset_at: now + windowMs })
      .onConflict('key')
      .merge({ count: db.raw('rate_limits.count + 1') })
  }

  async reset(key: string, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.ctx.knex)('rate_limits').where({ key }).delete()
  }
}
