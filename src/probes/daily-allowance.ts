import type { Knex } from 'knex'
import { RateLimitedError } from '../domain/errors.js'
import { localDayOf } from './local-day.js'

/**
 * Takes one of a user's on-demand probes for the local day, or throws RateLimitedError.
 * The count lives in rate_limits under a key that names the day, and is taken with a
 * conditional update, so simultaneous requests cannot both get the last one.
 */
export async function takeOnDemandAllowance(
  trx: Knex.Transaction,
  opts: { userId: number; now: number; timeZone: string; limit: number }
): Promise<void> {
  const day = localDayOf(opts.now, opts.timeZone)
  const key = `probes.on_demand:${opts.userId}:${day.date}`
  // Yesterday's counters are of no further use.
  await trx('rate_limits')
    .where('key', 'like', `probes.on_demand:${opts.userId}:%`)
    .where('reset_at', '<=', opts.now)
    .delete()
  await trx('rate_limits').insert({ key, count: 0, reset_at: day.endsAt }).onConflict('key').ignore()
  const taken = await trx('rate_limits').where('key', key).where('count', '<', opts.limit).increment('count', 1)
  if (taken !== 1) {
    const retryAfterSec = Math.max(1, Math.ceil((day.endsAt - opts.now) / 1000))
    throw new RateLimitedError(`at most ${opts.limit} on-demand probes a day; try again tomorrow`, retryAfterSec)
  }
}
