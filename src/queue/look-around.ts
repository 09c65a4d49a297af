import type { Knex } from 'knex'
import { jobsInClaimOrder } from './claim.js'

/** What a worker's housekeeping needs to know before doing anything. */
export interface QueueAround {
  /** The earliest run_at of a scheduled job (of any name), or null when none is scheduled. */
  nextScheduledAt: number | null
  /** Some job is in progress under a lock that has expired: its worker may be gone. */
  lapsed: boolean
  /** Some job of `names` is enqueued and due. */
  waiting: boolean
}

/**
 * One read for an idle queue's poll, three probes of the jobs indexes, each stopping at
 * its first row: the next scheduled job along (status, run_at), a lapsed lock along
 * (status, lock_expires_at), a due enqueued job of these names along
 * (name, status, priority DESC, fair_at, id). Only what it finds is then acted on.
 */
export async function lookAround(knex: Knex, names: readonly string[], now: number): Promise<QueueAround> {
  const next = knex('jobs').where('status', 'scheduled').orderBy('run_at').limit(1).select('run_at')
  const lapsed = knex('jobs')
    .where('status', 'in-progress')
    .where('lock_expires_at', '<=', now)
    .limit(1)
    .select(knex.raw('1'))
  const waiting = jobsInClaimOrder(knex)
    .whereIn('name', names.length > 0 ? [...names] : [''])
    .where('status', 'enqueued')
    .where('run_at', '<=', now)
    .limit(1)
    .select(knex.raw('1'))
  const row: { next_at: number | string | null; lapsed: unknown; waiting: unknown } = await knex.first({
    next_at: next,
    lapsed: knex.raw('EXISTS ?', [lapsed]),
    waiting: knex.raw('EXISTS ?', [waiting])
  })
  return {
    nextScheduledAt: row.next_at === null ? null : Number(row.next_at),
    lapsed: Boolean(Number(row.lapsed)),
    waiting: Boolean(Number(row.waiting))
  }
}
