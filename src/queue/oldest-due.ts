import type { Knex } from 'knex'
import { firstInLane } from './claim.js'

/** A job that could run and has not. */
export interface DueJob {
  id: number
  name: string
  /** When it came due (epoch ms). */
  runAt: number
}

type DueStatus = 'enqueued' | 'scheduled'

/**
 * The oldest job of `status` among `names` that came due at least `waitedMs` before `now`
 * and is first in its lane, along the (status, run_at) index: a query of at most one row,
 * for the caller's columns (oldestDueJob), or to test for a row (the watchdog's survey).
 */
export function oldestDueOf(
  knex: Knex,
  status: DueStatus,
  names: readonly string[],
  now: number,
  waitedMs: number
): Knex.QueryBuilder {
  return knex('jobs')
    .where('status', status)
    .where('run_at', '<=', now - waitedMs)
    .whereIn('name', [...names])
    .where(firstInLane(knex, now))
    .orderBy([{ column: 'run_at' }, { column: 'id' }])
    .limit(1)
}

/**
 * At `now`, the job that has waited longest to run among those that came due at least
 * `waitedMs` ago: scheduled or enqueued, of one of `names`, and first in its lane (a job held
 * behind an earlier one of its lane, a webhook's next delivery say, is not stuck: the
 * one ahead is). Null when none. One statement of two reads along the (status, run_at)
 * index, one per status, each stopping at its first row, so it stays cheap with many jobs
 * waiting (one read of both statuses would sort every due job to find the oldest).
 */
export async function oldestDueJob(
  knex: Knex,
  names: readonly string[],
  now: number,
  waitedMs: number
): Promise<DueJob | null> {
  if (names.length === 0) return null
  const oldestOf = (status: DueStatus) =>
    knex.select('*').from(oldestDueOf(knex, status, names, now, waitedMs).select('id', 'name', 'run_at').as(status))
  const rows: Array<{ id: number | string; name: string; run_at: number | string }> = await oldestOf(
    'enqueued'
  ).unionAll(oldestOf('scheduled'))
  let oldest: DueJob | null = null
  for (const row of rows) {
    if (oldest === null || Number(row.run_at) < oldest.runAt)
      oldest = { id: Number(row.id), name: row.name, runAt: Number(row.run_at) }
  }
  return oldest
}
