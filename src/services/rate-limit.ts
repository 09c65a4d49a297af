import type { Knex } from 'knex'
import { inTransaction, type ServiceContext } from './context.js'

/**
 * Fixed-window counters kept in the database, so every instance sees the same count and
 * a restart does not reset an attacker's budget.
 */
export class RateLimiter {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Counts one attempt against `key` and returns 0 when it is within `limit`, otherwise
   * the seconds until the window ends. The attempt is counted before the caller does its
   * work: checking first and counting afterwards would let many simultaneous attempts all
   * pass the check before any of them was counted.
   */
  async consume(key: string, limit: number, windowMs: number, trx?: Knex.Transaction): Promise<number> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const now = this.ctx.clock.now()
      // Expired windows of this kind go too, so the table holds only live counters.
      await trx('rate_limits')
        .where('key', 'like', `${prefixOf(key)}%`)
        .where('reset_at', '<=', now)
        .delete()
      await trx('rate_limits')
        .insert({ key, count: 1, reset_at: now + windowMs })
        .onConflict('key')
        .merge({ count: trx.raw('rate_limits.count + 1') })
      const row = await trx('rate_limits').where({ key }).first()
      if (Number(row.count) <= limit) return 0
      return Math.max(1, Math.ceil((Number(row.reset_at) - now) / 1000))
    })
  }

  /** Takes back one counted attempt, e.g. one that turned out to be legitimate. */
  async release(key: string, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.ctx.knex)('rate_limits').where({ key }).where('count', '>', 0).decrement('count', 1)
  }

  async reset(key: string, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.ctx.knex)('rate_limits').where({ key }).delete()
  }
}

/** Keys read `<area>:<kind>:<subject>` (the subject may hold colons, as IPv6 addresses do). */
function prefixOf(key: string): string {
  return `${key.split(':').slice(0, 2).join(':')}:`
}
