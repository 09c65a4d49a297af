import type { Knex } from 'knex'
import { isPostgres } from '../db/knex.js'
import type { JobRow } from './types.js'

/*
 * The only place where a worker takes a job. On SQLite each claim is one conditional
 * UPDATE, so of several workers that saw the same candidate exactly one wins. On
 * PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED` and claimed in the same
 * short transaction: workers of several processes never queue up behind one another's
 * row locks, and never take the same job. Either way no transaction stays open while a
 * handler runs.
 */

export interface ClaimRequest {
  now: number
  /** Written to locked_by; the worker's finishing writes are conditional on it. */
  workerId: string
  /** Job names this worker can run, each with its lock time in ms. */
  lockMsByName: ReadonlyMap<string, number>
  /** At most this many jobs are claimed. */
  limit: number
}

const LIVE = ['scheduled', 'enqueued', 'in-progress']

/**
 * Due (scheduled or enqueued, run_at reached) or abandoned (in-progress, lock expired,
 * attempts left), and first in its lane: no live job with a smaller id shares the lane.
 */
function claimable(knex: Knex, now: number) {
  return (q: Knex.QueryBuilder) =>
    q
      .where((state) =>
        state
          .where((due) => due.whereIn('status', ['enqueued', 'scheduled']).where('run_at', '<=', now))
          .orWhere((abandoned) =>
            abandoned
              .where('status', 'in-progress')
              .where('lock_expires_at', '<=', now)
              .where('attempts', '<', knex.ref('max_attempts'))
          )
      )
      .where((lane) =>
        lane.whereNull('lane').orWhereNotExists((earlier) =>
          earlier
            .select(knex.raw('1'))
            .from('jobs as earlier')
            .where('earlier.lane', knex.ref('jobs.lane'))
            .where('earlier.id', '<', knex.ref('jobs.id'))
            .whereIn('earlier.status', LIVE)
        )
      )
}

/** Claims up to `limit` claimable jobs, oldest run_at first; returns them as they now are. */
export async function claimDueJobs(knex: Knex, request: ClaimRequest): Promise<JobRow[]> {
  const { now, lockMsByName, limit } = request
  if (limit <= 0 || lockMsByName.size === 0) return []
  if (isPostgres(knex)) return claimSkippingLocked(knex, request)
  const candidates: JobRow[] = await knex('jobs')
    .select('*')
    .whereIn('name', [...lockMsByName.keys()])
    .where(claimable(knex, now))
    .orderBy([{ column: 'run_at' }, { column: 'id' }])
    // Spare candidates, so a worker that loses the first few races still fills its slots.
    .limit(limit * 3)

  const claimed: JobRow[] = []
  for (const candidate of candidates) {
    if (claimed.length === limit) break
    const change = claimChange(candidate, request)
    // `attempts` pins the row to the state we read: a rival's claim changes it.
    const updated = await knex('jobs')
      .where({ id: candidate.id, attempts: candidate.attempts })
      .where(claimable(knex, now))
      .update(change)
    if (updated === 1) claimed.push(normalise({ ...candidate, ...change }))
  }
  return claimed
}

function claimChange(candidate: JobRow, request: ClaimRequest) {
  return {
    status: 'in-progress' as const,
    attempts: Number(candidate.attempts) + 1,
    locked_at: request.now,
    locked_by: request.workerId,
    lock_expires_at: request.now + request.lockMsByName.get(candidate.name)!,
    updated_at: request.now
  }
}

/**
 * Rows another worker's claim transaction holds are skipped rather than waited for; a row
 * it already claimed and committed no longer matches `claimable` when it is re-read under
 * the lock. So every row returned here is this worker's alone.
 */
async function claimSkippingLocked(knex: Knex, request: ClaimRequest): Promise<JobRow[]> {
  const { now, lockMsByName, limit } = request
  return knex.transaction(async (trx) => {
    const candidates: JobRow[] = await trx('jobs')
      .select('*')
      .whereIn('name', [...lockMsByName.keys()])
      .where(claimable(trx, now))
      .orderBy([{ column: 'run_at' }, { column: 'id' }])
      .limit(limit)
      .forUpdate()
      .skipLocked()
    const claimed: JobRow[] = []
    for (const candidate of candidates) {
      const change = claimChange(candidate, request)
      await trx('jobs').where({ id: candidate.id }).update(change)
      claimed.push(normalise({ ...candidate, ...change }))
    }
    return claimed
  })
}

/** Drivers may hand bigint columns back as strings; the queue works with numbers. */
export function normalise(row: JobRow): JobRow {
  const numeric = ['id', 'user_id', 'run_at', 'attempts', 'max_attempts', 'locked_at', 'lock_expires_at', 'finished_at', 'created_at', 'updated_at'] as const
  const out = { ...row } as Record<string, unknown>
  for (const column of numeric) {
    if (out[column] !== null && out[column] !== undefined) out[column] = Number(out[column])
  }
  return out as unknown as JobRow
}
