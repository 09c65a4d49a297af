import type { Knex } from 'knex'
import { RateLimitedError } from '../domain/errors.js'

const DAY = 24 * 3600_000

/** One check-in a user asked for, as on_demand_requests keeps it. */
export interface OnDemandRecord {
  requestId: string
  userId: number
  startsAt: number
  retries: number
  waitMinutes: number
}

/**
 * Takes one of a user's on-demand check-ins, or throws RateLimitedError: at most `limit`
 * in the last 24 hours, whatever the user's time zone says (a change of time_zone starts
 * no new day). A request merged into a check-in that was waiting is not counted. The
 * caller holds the user's row lock, so simultaneous requests cannot both take the last one.
 */
export async function takeOnDemandAllowance(
  trx: Knex.Transaction,
  request: OnDemandRecord,
  opts: { now: number; limit: number }
): Promise<void> {
  const since = opts.now - DAY
  // Requests older than a day whose check-in has come due are of no further use.
  await trx('on_demand_requests')
    .where({ user_id: request.userId })
    .where('requested_at', '<=', since)
    .where('starts_at', '<=', opts.now)
    .delete()
  const taken: Array<{ requested_at: number | string }> = await trx('on_demand_requests')
    .select('requested_at')
    .where({ user_id: request.userId })
    .whereNull('merged_at')
    .where('requested_at', '>', since)
    .orderBy('requested_at', 'desc')
  if (taken.length >= opts.limit) {
    // One comes free when the limit-th newest is a day old.
    const freesAt = Number(taken[opts.limit - 1]!.requested_at) + DAY
    const retryAfterSec = Math.max(1, Math.ceil((freesAt - opts.now) / 1000))
    throw new RateLimitedError(
      `at most ${opts.limit} on-demand probes in 24 hours; the next is free in ${Math.ceil(retryAfterSec / 60)} minutes`,
      retryAfterSec
    )
  }
  await trx('on_demand_requests').insert({
    request_id: request.requestId,
    user_id: request.userId,
    requested_at: opts.now,
    starts_at: request.startsAt,
    retries: request.retries,
    wait_minutes: request.waitMinutes
  })
}

/**
 * A delayed check-in the user asked for that is still to come and whose first wait
 * (from its ask to its first follow-up) holds `startsAt`: a request for then is the same
 * request made twice (`probe --in 1`, twice). Null if none. A request for later than that
 * is queued: if it comes due while that check-in still waits it is merged then.
 */
export async function queuedOnDemandCovering(
  trx: Knex.Transaction,
  userId: number,
  startsAt: number,
  now: number
): Promise<{ startsAt: number } | null> {
  const rows: Array<{ starts_at: number | string; wait_minutes: number }> = await trx('on_demand_requests')
    .select('starts_at', 'wait_minutes')
    .where({ user_id: userId })
    .whereNull('merged_at')
    .where('starts_at', '>', now)
    .where('starts_at', '<=', startsAt)
    .orderBy('starts_at', 'desc')
  for (const row of rows) {
    const start = Number(row.starts_at)
    if (startsAt <= start + row.wait_minutes * 60_000) return { startsAt: start }
  }
  return null
}

/** A delayed request that came due while a check-in waited was merged into it: it no longer counts. */
export async function mergeOnDemandRequest(trx: Knex.Transaction, requestId: string, now: number): Promise<void> {
  await trx('on_demand_requests').where({ request_id: requestId }).whereNull('merged_at').update({ merged_at: now })
}
