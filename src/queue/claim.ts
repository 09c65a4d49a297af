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
  /** Only jobs of at least this priority (the urgent slots' claims); any when omitted. */
  minPriority?: number
}

const LIVE = ['scheduled', 'enqueued', 'in-progress']

/**
 * A job whose worker vanished may run again: it has attempts left, or it is retried until
 * a time not yet reached (retry_until, alarms' texts), whatever its attempts.
 */
export function attemptsLeft(knex: Knex, now: number) {
  return (q: Knex.QueryBuilder) =>
    q.where((left) => left.where('attempts', '<', knex.ref('max_attempts')).orWhere('retry_until', '>', now))
}

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
            abandoned.where('status', 'in-progress').where('lock_expires_at', '<=', now).where(attemptsLeft(knex, now))
          )
      )
      .where(firstInLane(knex, now))
}

/**
 * First in its lane: no live job with a smaller id shares the lane, and no other job of
 * the lane is running (with a valid lock). The second half matters on PostgreSQL, where
 * two transactions can commit in the opposite order of their ids: a later job may already
 * run when an earlier one appears, and the lane must still run one job at a time.
 */
export function firstInLane(knex: Knex, now: number) {
  return (lane: Knex.QueryBuilder) =>
    lane.whereNull('lane').orWhereNotExists((other) =>
      other
        .select(knex.raw('1'))
        .from('jobs as other')
        .where('other.lane', knex.ref('jobs.lane'))
        .where((blocking) =>
          blocking
            .where((earlier) => earlier.where('other.id', '<', knex.ref('jobs.id')).whereIn('other.status', LIVE))
            .orWhere((running) =>
              running
                .whereNot('other.id', knex.ref('jobs.id'))
                .where('other.status', 'in-progress')
                .where('other.lock_expires_at', '>', now)
            )
        )
    )
}

/** The three ways a job is claimable, each a range of one (status, ...) index. */
const CLAIMABLE_KINDS: Array<(knex: Knex, now: number) => (q: Knex.QueryBuilder) => Knex.QueryBuilder> = [
  (_knex, now) => (q) => q.where('status', 'enqueued').where('run_at', '<=', now),
  (_knex, now) => (q) => q.where('status', 'scheduled').where('run_at', '<=', now),
  (knex, now) => (q) =>
    q.where('status', 'in-progress').where('lock_expires_at', '<=', now).where(attemptsLeft(knex, now))
]

/** Claim order: higher priority first, then the job's place in line (fair_at), then id. */
export function claimOrder(a: JobRow, b: JobRow): number {
  return (
    Number(b.priority) - Number(a.priority) ||
    Number(a.fair_at ?? a.run_at) - Number(b.fair_at ?? b.run_at) ||
    Number(a.id) - Number(b.id)
  )
}

const CLAIM_ORDER = [
  { column: 'priority', order: 'desc' },
  { column: 'fair_at', order: 'asc' },
  { column: 'id', order: 'asc' }
] as const

/**
 * The first `limit` claimable jobs in claim order (priority, place in line, id). Each kind
 * of claimable job is read by a query of its own and the results merged: with the kinds
 * ORed in one query the database read and sorted every due job on every claim, so a
 * fan-out of N jobs cost O(N²) (bench/fanout.ts: 70 ms a claim with 30k jobs due, on
 * SQLite and PostgreSQL alike). One kind per query reads along its index and stops after
 * `limit` rows: enqueued jobs along (name, status, priority DESC, fair_at, id) (0016), in
 * claim order. Scheduled jobs are read by run_at along (name, status, run_at, id) (0009),
 * since most are timers not yet due, which a read in claim order would walk past; they are
 * the few that came due since the last poll promoted the due ones to enqueued.
 */
async function firstClaimable(knex: Knex, request: ClaimRequest, limit: number, lock: boolean): Promise<JobRow[]> {
  const names = [...request.lockMsByName.keys()]
  const found: JobRow[] = []
  for (const [k, kind] of CLAIMABLE_KINDS.entries()) {
    // SQLite, left to choose, reads (status, run_at) once the name list is longer than a
    // few, walking past every due job of other names (100k in a fan-out: 34 ms a claim).
    // By name first it reads only jobs this worker can run and sorts those few.
    const index = k === 0 ? 'jobs_claim_order_index' : 'jobs_name_status_run_at_index'
    const byName = k < 2 && !isPostgres(knex)
    const query = (byName ? knex.from(knex.raw('?? INDEXED BY ??', ['jobs', index])) : knex('jobs'))
      .select('*')
      .whereIn('name', names)
      .where(kind(knex, request.now))
      .where(firstInLane(knex, request.now))
      .orderBy(k === 1 ? [{ column: 'run_at' }, { column: 'id' }] : [...CLAIM_ORDER])
      .limit(limit)
    if (request.minPriority !== undefined) query.where('priority', '>=', request.minPriority)
    found.push(...(await (lock ? query.forUpdate().skipLocked() : query)))
  }
  return found.map(normalise).sort(claimOrder).slice(0, limit)
}

/** Claims up to `limit` claimable jobs, in claim order; returns them as they now are. */
export async function claimDueJobs(knex: Knex, request: ClaimRequest): Promise<JobRow[]> {
  const { now, lockMsByName, limit } = request
  if (limit <= 0 || lockMsByName.size === 0) return []
  if (isPostgres(knex)) return claimSkippingLocked(knex, request)
  // Spare candidates, so a worker that loses the first few races still fills its slots.
  const candidates = await firstClaimable(knex, request, limit * 3, false)

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
  return knex.transaction(async (trx) => {
    // Up to `limit` rows of each kind are locked; those past the oldest `limit` stay unclaimed and are unlocked at commit.
    const candidates = await firstClaimable(trx, request, request.limit, true)
    const claimed: JobRow[] = []
    for (const candidate of candidates) {
      if (candidate.lane !== null && !(await takeLane(trx, candidate, request.now))) continue
      const change = claimChange(candidate, request)
      await trx('jobs').where({ id: candidate.id }).update(change)
      claimed.push(normalise({ ...candidate, ...change }))
    }
    return claimed
  })
}

/**
 * Row locks cannot keep a lane to one job at a time: a rival claiming another job of the
 * lane locks a different row, and its claim is invisible here until it commits. So a lane
 * is also locked, until this claim commits, and checked again in a fresh snapshot that
 * sees every claim committed before the lock was granted. A lane a rival holds is skipped.
 */
async function takeLane(trx: Knex.Transaction, candidate: JobRow, now: number): Promise<boolean> {
  // Keyed by schema too: instances of different Kronus databases share a server's advisory locks.
  const { rows } = await trx.raw(
    `SELECT pg_try_advisory_xact_lock(hashtext(current_schema() || ':kronus.lane:' || ?)) AS taken`,
    [candidate.lane]
  )
  if (!rows[0].taken) return false
  const still = await trx('jobs').where({ id: candidate.id }).where(firstInLane(trx, now)).first('id')
  return still !== undefined
}

/** Drivers may hand bigint columns back as strings; the queue works with numbers. */
export function normalise(row: JobRow): JobRow {
  const numeric = [
    'id',
    'user_id',
    'run_at',
    'priority',
    'fair_at',
    'retry_until',
    'attempts',
    'max_attempts',
    'locked_at',
    'lock_expires_at',
    'finished_at',
    'created_at',
    'updated_at'
  ] as const
  const out = { ...row } as Record<string, unknown>
  for (const column of numeric) {
    if (out[column] !== null && out[column] !== undefined) out[column] = Number(out[column])
  }
  return out as unknown as JobRow
}

export interface BatchClaimRequest {
  now: number
  workerId: string
  /** The one job name claimed. */
  name: string
  lockMs: number
  limit: number
  /** Only jobs of at least this priority (the urgent slots' claims); any when omitted. */
  minPriority?: number
}

/**
 * Claims up to `limit` enqueued jobs of one batched name, in claim order (read along
 * jobs_claim_order_index, so emergency texts come first and users' texts in turn), by one UPDATE over
 * a sub-select of their ids. Batched jobs have no lane, so that statement is the whole
 * claim: atomic on SQLite, and on PostgreSQL the sub-select skips rows a rival holds and
 * re-checks the rest once locked. Claiming a few hundred jobs this way costs about what
 * claiming one did, which is what lets a fan-out of 100k probes keep up. Due scheduled
 * jobs and abandoned ones become enqueued in the worker's housekeeping (`promoteDueScheduled`
 * and `releaseAbandonedBatchJobs`), so one kind of row is all a batch claim reads.
 */
export async function claimBatch(knex: Knex, request: BatchClaimRequest): Promise<JobRow[]> {
  const { now, name, limit } = request
  if (limit <= 0) return []
  const pg = isPostgres(knex)
  // SQLite, left to choose, may read (name, status, run_at) and sort every due job.
  const from: Knex.QueryBuilder = pg
    ? knex('jobs')
    : knex.from(knex.raw('?? INDEXED BY ??', ['jobs', 'jobs_claim_order_index']))
  const ids = from
    .select('id')
    .where({ name, status: 'enqueued' })
    .where('run_at', '<=', now)
    .whereNull('lane')
    .orderBy([...CLAIM_ORDER])
    .limit(limit)
  if (request.minPriority !== undefined) ids.where('priority', '>=', request.minPriority)
  if (pg) ids.forUpdate().skipLocked()
  const rows: JobRow[] = await knex('jobs')
    // On PostgreSQL `= ANY(ARRAY(...))` looks each id up; `IN (...)` was planned as a scan of the whole table.
    .where(pg ? knex.raw('?? = ANY(ARRAY(?))', ['id', ids]) : knex.raw('?? IN (?)', ['id', ids]))
    .update({
      status: 'in-progress',
      attempts: knex.raw('?? + 1', ['attempts']),
      locked_at: now,
      locked_by: request.workerId,
      lock_expires_at: now + request.lockMs,
      updated_at: now
    })
    .returning('*')
  return rows.map(normalise).sort(claimOrder)
}

/**
 * Batched jobs whose worker vanished (lock expired, attempts left) go back to `enqueued`
 * for the next batch claim; the lost attempt counts, as it does for a single job claimed
 * again. Those with no attempt left are buried by buryAbandonedJobs. Returns how many.
 */
export async function releaseAbandonedBatchJobs(knex: Knex, names: string[], now: number): Promise<number> {
  if (names.length === 0) return 0
  return knex('jobs')
    .whereIn('name', names)
    .where('status', 'in-progress')
    .where('lock_expires_at', '<=', now)
    .where(attemptsLeft(knex, now))
    .update({ status: 'enqueued', locked_at: null, locked_by: null, lock_expires_at: null, updated_at: now })
}
