import type { Knex } from 'knex'
import { isPostgres } from '../db/knex.js'
import { CLAIMED_JOB_COLUMNS, type ClaimedJob } from './types.js'

/*
 * The only place where a worker takes a job. On SQLite each claim is one UPDATE over a
 * sub-select of the jobs it takes, so of several workers after the same jobs each gets
 * its own. On PostgreSQL the candidates are read `FOR UPDATE SKIP LOCKED` and claimed by
 * the same statement: workers of several processes never queue up behind one another's
 * row locks, and never take the same job. Either way a claim of several jobs
 * costs one write, and no transaction stays open while a handler runs.
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
  /**
   * PostgreSQL: told of each job whose lane could not be taken for an error when other jobs
   * were claimed (the job stays enqueued for the next claim). When none was, the claim throws.
   */
  onLaneFailure?: (job: ClaimedJob, error: unknown) => void
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

/** Claim order: higher priority first, then the job's place in line (fair_at), then id. */
export function claimOrder(a: ClaimedJob, b: ClaimedJob): number {
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
 * The jobs table, read along jobs_claim_order_index (name, status, priority DESC, fair_at,
 * id). SQLite, left to choose, may read (status, run_at) and pass over, or sort, every due
 * job. PostgreSQL chooses it for one name (for several, see claimSkippingLocked).
 */
export function jobsInClaimOrder(knex: Knex): Knex.QueryBuilder {
  return isPostgres(knex) ? knex('jobs') : knex.from(knex.raw('?? INDEXED BY ??', ['jobs', 'jobs_claim_order_index']))
}

/**
 * The first `limit` enqueued, due jobs of the names `name` picks that are first in their lane,
 * in claim order, read along (name, status, priority DESC, fair_at, id) (0016), so the
 * read stops after the rows it takes. Claims read enqueued rows only: due scheduled jobs
 * and abandoned ones are put back to `enqueued` by the worker's housekeeping
 * (promoteDueScheduled, releaseAbandonedJobs), so one index range is all a claim reads.
 */
function dueEnqueued(
  knex: Knex,
  request: ClaimRequest,
  name: (query: Knex.QueryBuilder) => Knex.QueryBuilder,
  columns: string[]
): Knex.QueryBuilder {
  const query = name(jobsInClaimOrder(knex).select(columns))
    .where('status', 'enqueued')
    .where('run_at', '<=', request.now)
    .where(firstInLane(knex, request.now))
    .orderBy([...CLAIM_ORDER])
    .limit(request.limit)
  if (request.minPriority !== undefined) query.where('priority', '>=', request.minPriority)
  return query
}

/** The claim's writes: locked by this worker until its name's lock time has passed, one more attempt. */
function claimChange(knex: Knex, request: ClaimRequest) {
  const times = [...new Set(request.lockMsByName.values())]
  const lockExpiresAt =
    times.length === 1
      ? request.now + times[0]!
      : knex.raw(`CASE ?? ${[...request.lockMsByName].map(() => 'WHEN ? THEN CAST(? AS BIGINT)').join(' ')} END`, [
          'name',
          ...[...request.lockMsByName].flatMap(([name, ms]) => [name, request.now + ms])
        ])
  return {
    status: 'in-progress' as const,
    attempts: knex.raw('?? + 1', ['attempts']),
    locked_at: request.now,
    locked_by: request.workerId,
    lock_expires_at: lockExpiresAt,
    updated_at: request.now
  }
}

/**
 * Claims up to `limit` due jobs of the names asked for, in claim order; returns them as
 * they now are (CLAIMED_JOB_COLUMNS). On SQLite this is one statement, `UPDATE jobs …
 * WHERE id IN (SELECT id … LIMIT n) RETURNING …`, atomic since SQLite has one writer: of
 * two workers after the same rows each gets the rows the other did not take. At most one
 * job of a lane is first in it, so a lane never has two claimed at once.
 */
export async function claimDueJobs(knex: Knex, request: ClaimRequest): Promise<ClaimedJob[]> {
  if (request.limit <= 0 || request.lockMsByName.size === 0) return []
  if (isPostgres(knex)) return claimSkippingLocked(knex, request)
  const rows: ClaimedJob[] = await knex('jobs')
    .where(
      knex.raw('?? IN (?)', [
        'id',
        dueEnqueued(knex, request, (q) => q.whereIn('name', [...request.lockMsByName.keys()]), ['id'])
      ])
    )
    .update(claimChange(knex, request))
    .returning([...CLAIMED_JOB_COLUMNS])
  return rows.map(normalise).sort(claimOrder)
}

/**
 * One statement claims the candidates without a lane (nearly all) and names those with
 * one: `WITH candidates AS (SELECT … FOR UPDATE SKIP LOCKED), claimed AS (UPDATE … RETURNING
 * …)`. Rows another worker's claim holds are skipped rather than waited for, and a row a
 * rival claimed and committed meanwhile no longer matches when it is re-read under the
 * lock, so every row claimed here is this worker's alone. With no transaction of its own,
 * the claim costs one round trip where BEGIN, SELECT, UPDATE and COMMIT cost four. A
 * candidates with a lane are then taken together, in a transaction of their own (takeLanes).
 */
async function claimSkippingLocked(knex: Knex, request: ClaimRequest): Promise<ClaimedJob[]> {
  // Given `name IN (…)`, PostgreSQL cannot read the claim-order index in order across the
  // names: it read every due job of them, tested each for its lane and sorted them all, a
  // second a claim with 100k deliveries waiting. So each name's range is read on its own
  // (LATERAL, one subquery planned once), in order, skipping rows a rival holds and stopping
  // after `limit` rows it may take, and the few found are merged in claim order.
  const oneName = dueEnqueued(knex, request, (q) => q.where('name', knex.ref('wanted.name')), [
    'id',
    'lane',
    'priority',
    'fair_at'
  ])
  const candidates = knex
    .select('due.id', 'due.lane')
    .from(knex.raw('unnest(?::text[]) AS wanted(name)', [[...request.lockMsByName.keys()]]))
    .crossJoin(knex.raw('LATERAL ? AS due', [oneName]))
    .orderBy(CLAIM_ORDER.map(({ column, order }) => ({ column: `due.${column}`, order })))
    .limit(request.limit)
    .forUpdate('due')
    .skipLocked()
  const ofCandidates = (lane: 'whereNull' | 'whereNotNull') =>
    // `= ANY(ARRAY(...))` looks each id up; `IN (...)` may be planned as a scan of the whole table.
    knex.raw('?? = ANY(ARRAY(?))', ['jobs.id', knex('candidates').select('id')[lane]('lane')])
  const claim = knex('jobs')
    .where(ofCandidates('whereNull'))
    .update(claimChange(knex, request))
    .returning([...CLAIMED_JOB_COLUMNS])
  const columns = (table: string) => CLAIMED_JOB_COLUMNS.map((column) => `${table}.${column}`)
  const rows: Array<ClaimedJob & { waiting: boolean }> = await knex
    .with('candidates', candidates)
    .with('claimed', claim)
    .select([...columns('claimed'), knex.raw('false AS waiting')])
    .from('claimed')
    .unionAll((laned) =>
      laned
        .select([...columns('jobs'), knex.raw('true AS waiting')])
        .from('jobs')
        .where(ofCandidates('whereNotNull'))
    )
  const claimed: ClaimedJob[] = []
  const laned: ClaimedJob[] = []
  for (const row of rows) {
    const { waiting, ...job } = row
    if (waiting) laned.push(normalise(job))
    else claimed.push(normalise(job))
  }
  if (laned.length === 0) return claimed.sort(claimOrder)
  // The jobs already claimed are this worker's now: lanes that cannot be taken are left
  // to the next claim rather than failing the claim and stranding them until their locks expire.
  try {
    claimed.push(...(await knex.transaction((trx) => takeLanes(trx, laned, request))))
  } catch (error) {
    if (claimed.length === 0) throw error
    for (const job of laned) request.onLaneFailure?.(job, error)
  }
  return claimed.sort(claimOrder)
}

/**
 * Row locks cannot keep a lane to one job at a time: a rival claiming another job of the
 * lane locks a different row, and its claim is invisible here until it commits. So each
 * lane is also locked, until `trx` commits, and the jobs claimed by an UPDATE that starts
 * after the locks are granted: its snapshot sees every claim committed before, and each
 * job must still be enqueued, due and first in its lane. A lane a rival holds is skipped.
 * Jobs without a lane (a laned batch's few) are claimed by the same UPDATE.
 */
async function takeLanes(
  trx: Knex.Transaction,
  jobs: readonly ClaimedJob[],
  request: ClaimRequest
): Promise<ClaimedJob[]> {
  const lanes = [...new Set(jobs.flatMap((job) => (job.lane === null ? [] : [job.lane])))]
  const taken = new Set<string>()
  if (lanes.length > 0) {
    // Keyed by schema too: instances of different Kronus databases share a server's advisory locks.
    const { rows } = await trx.raw(
      `SELECT lane FROM unnest(?::text[]) AS wanted(lane)
        WHERE pg_try_advisory_xact_lock(hashtext(current_schema() || ':kronus.lane:' || lane))`,
      [lanes]
    )
    for (const row of rows as Array<{ lane: string }>) taken.add(row.lane)
  }
  const ids = jobs.filter((job) => job.lane === null || taken.has(job.lane)).map((job) => job.id)
  if (ids.length === 0) return []
  const rows: ClaimedJob[] = await trx('jobs')
    .where(trx.raw('?? = ANY(?)', ['id', ids]))
    .where('status', 'enqueued')
    .where('run_at', '<=', request.now)
    .where(firstInLane(trx, request.now))
    .update(claimChange(trx, request))
    .returning([...CLAIMED_JOB_COLUMNS])
  return rows.map(normalise)
}

const NUMERIC_JOB_COLUMNS = [
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

/** Drivers may hand bigint columns back as strings; the queue works with numbers. */
export function normalise<Row extends Partial<Record<(typeof NUMERIC_JOB_COLUMNS)[number], unknown>>>(row: Row): Row {
  // In place: every caller hands over a row of its own, fresh from the driver. A copy per
  // claimed job was one more object per text outliving the young generation in a fan-out.
  const out = row as unknown as Record<string, unknown>
  for (const column of NUMERIC_JOB_COLUMNS) {
    if (out[column] !== null && out[column] !== undefined) out[column] = Number(out[column])
  }
  return row
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
  /** The name's jobs may have lanes (BatchDefinitionOptions.lanes): only the first of each lane is taken. */
  lanes?: boolean
}

/**
 * Claims up to `limit` enqueued jobs of one batched name, in claim order (read along
 * jobs_claim_order_index, so emergency texts come first and users' texts in turn), by one UPDATE over
 * a sub-select of their ids: atomic on SQLite, and on PostgreSQL the sub-select skips rows
 * a rival holds and re-checks the rest once locked. Claiming a few hundred jobs this way
 * costs about what claiming one did, which is what lets a fan-out of 100k probes keep up.
 * Due scheduled jobs and abandoned ones become enqueued in the worker's housekeeping
 * (`promoteDueScheduled` and `releaseAbandonedBatchJobs`), so one kind of row is all a
 * batch claim reads.
 *
 * A name whose jobs have lanes takes only jobs first in their lane, so a batch holds at
 * most one job of a lane. SQLite's one writer keeps that statement to itself; on
 * PostgreSQL the candidates' lanes are locked before they are claimed (takeLanes), in
 * one transaction for the whole batch.
 */
export async function claimBatch(knex: Knex, request: BatchClaimRequest): Promise<ClaimedJob[]> {
  const { now, name, limit } = request
  if (limit <= 0) return []
  const pg = isPostgres(knex)
  const claim: ClaimRequest = {
    now,
    workerId: request.workerId,
    lockMsByName: new Map([[name, request.lockMs]]),
    limit
  }
  const due = (db: Knex) => {
    const query = jobsInClaimOrder(db)
      .where({ name, status: 'enqueued' })
      .where('run_at', '<=', now)
      .where(request.lanes ? firstInLane(db, now) : (q: Knex.QueryBuilder) => q.whereNull('lane'))
      .orderBy([...CLAIM_ORDER])
      .limit(limit)
    if (request.minPriority !== undefined) query.where('priority', '>=', request.minPriority)
    if (pg) query.forUpdate().skipLocked()
    return query
  }
  if (pg && request.lanes) {
    const rows = await knex.transaction(async (trx) => takeLanes(trx, await due(trx).select('id', 'lane'), claim))
    return rows.sort(claimOrder)
  }
  const ids = due(knex).select('id')
  const rows: ClaimedJob[] = await knex('jobs')
    // On PostgreSQL `= ANY(ARRAY(...))` looks each id up; `IN (...)` was planned as a scan of the whole table.
    .where(pg ? knex.raw('?? = ANY(ARRAY(?))', ['id', ids]) : knex.raw('?? IN (?)', ['id', ids]))
    .update(claimChange(knex, claim))
    .returning([...CLAIMED_JOB_COLUMNS])
  return rows.map(normalise).sort(claimOrder)
}

/**
 * Jobs whose worker vanished (lock expired, attempts left, or retried until a time not yet
 * reached) go back to `enqueued` for the next claim, single or batch; the lost attempt
 * counts. Those with no attempt left are buried by buryAbandonedJobs. Returns how many.
 */
export async function releaseAbandonedJobs(knex: Knex, names: string[], now: number): Promise<number> {
  if (names.length === 0) return 0
  return knex('jobs')
    .whereIn('name', names)
    .where('status', 'in-progress')
    .where('lock_expires_at', '<=', now)
    .where(attemptsLeft(knex, now))
    .update({ status: 'enqueued', locked_at: null, locked_by: null, lock_expires_at: null, updated_at: now })
}
