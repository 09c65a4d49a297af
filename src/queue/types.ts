import type { Knex } from 'knex'

/**
 * Payload types of every job, by job name. Core and plugins add their jobs by
 * declaration merging:
 *
 *   declare module '../queue/types.js' { interface KronusJobs { 'probe.fire': { userId: number; fireAt: number } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface KronusJobs {}

export type JobName = keyof KronusJobs & string

/** Statuses, named as the first Kronus names them. */
export const JOB_STATUSES = ['scheduled', 'enqueued', 'in-progress', 'successful', 'dead'] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

export interface JobDefinitionOptions {
  /** Attempts before the job is `dead`. Default 4, as in the first Kronus. */
  maxAttempts?: number
  /** A run longer than this fails with a timeout (and is retried). Default 60 s. */
  timeoutMs?: number
  /**
   * How long a claim holds the job; if the worker dies, another claims it once this has
   * passed. Must exceed timeoutMs and be at most 4 minutes, so an orphaned job is always
   * picked up again within 5 minutes. Default timeoutMs + 30 s.
   */
  lockMs?: number
  /**
   * Runs this name's jobs on workers of their own: up to this many at once, besides the
   * queue's `concurrency`. They never take one of the shared slots and no other job takes
   * theirs, so slow jobs of this name (outbound webhooks to a slow endpoint) can never
   * hold back other work, alarms' texts least of all. Unset: the shared slots.
   */
  ownConcurrency?: number
}

/** What a handler is told about the run. */
export interface JobRun {
  id: number
  name: string
  /** 1 on the first try. */
  attempt: number
  maxAttempts: number
  runAt: number
  /**
   * Clock time (epoch ms) when this run's time is up: its signal is aborted then, and its
   * lock lapses lockMarginMs later, when another worker may take the job. A handler checks
   * it before an effect it cannot take back (a text to a provider): on a busy machine the
   * abort's timer may fire late, the clock does not.
   */
  deadline: number
  /** Aborted when the run times out or the worker shuts down. */
  signal: AbortSignal
}

export type JobHandler<P> = (payload: P, run: JobRun) => Promise<void>

/** One job of a batch, as a batch handler sees it. */
export interface BatchJob<P> {
  payload: P
  run: JobRun
}

/** What a batch handler may do while it runs. */
export interface BatchControl {
  /**
   * Ends these jobs (indexes into the batch) as successful now, in `trx` when given (so
   * with the writes that record their effect), rather than when the whole batch ends:
   * once a text has gone out, a crash of this worker must not send it again. Their
   * entries in the final answer are then ignored.
   */
  complete(indexes: number[], trx?: Knex.Transaction): Promise<void>
}

/**
 * Runs many jobs of one name at once, and says how each went: `undefined` for a job that
 * succeeded, or the error it failed with (retried or dead, as a single job's would be).
 * The answer has one entry per job, in order. Throwing fails every job of the batch.
 */
export type BatchHandler<P> = (
  jobs: Array<BatchJob<P>>,
  signal: AbortSignal,
  control: BatchControl
) => Promise<Array<unknown>>

export interface BatchDefinitionOptions extends JobDefinitionOptions {
  /** At most this many jobs are claimed and handed to the handler at once. */
  batchSize: number
  /**
   * Spreads each user's jobs of this name out in claim order: a job enqueued while its
   * user already has jobs of this name and priority waiting is placed FAIR_SPACING_MS
   * after the last of them, so batches take users' jobs in turn and one user's 500 texts
   * cannot hold back another user's one. Jobs with no user are placed at their run_at.
   */
  fairAcrossUsers?: boolean
  /**
   * The name's jobs may have lanes (EnqueueOptions.lane). A batch then takes only the first
   * job of each lane, so a lane still runs one job at a time and in id order, while one
   * batch runs the jobs of many lanes: durable event deliveries, one lane per subscriber
   * and user. Its handler must not assume one lane's jobs are all in the batch.
   */
  lanes?: boolean
}

export interface EnqueueOptions {
  /** Epoch ms; now when omitted. A future time makes the job `scheduled`. */
  runAt?: number
  /**
   * Higher is claimed first, before older jobs of lower priority (default 0). Alarms'
   * texts and calls use it so they never wait behind check-ins, follow-ups or webhooks.
   */
  priority?: number
  /** While a job with this key is live (scheduled, enqueued, in-progress), enqueueing it again is a no-op. */
  key?: string
  /** The user the job is about: deleting the user deletes the job while it waits. */
  userId?: number
  /** Overrides the definition's maxAttempts for this job. */
  maxAttempts?: number
  /**
   * Keeps retrying a failed run (with backoff, at most RETRY_UNTIL_MAX_DELAY_MS apart)
   * until this long after the enqueue, however many attempts that takes: maxAttempts no
   * longer ends it early. A failure after that time, or a permanent one, ends it. For
   * alarms' texts, which must not be abandoned after a few seconds of provider errors.
   */
  retryForMs?: number
  /**
   * Serial lane (REQUIRED FEATURE of the queue): jobs that share a lane run one at a time,
   * in id order. A job is claimable only when no live job (scheduled, enqueued,
   * in-progress) with a smaller id is in its lane, so a failing job holds back the later
   * ones until it succeeds or is dead. Durable event delivery relies on this for per-user
   * order (lane `events:<subscriber>:<userId>`).
   */
  lane?: string
}

/** A job row as the queue reads it (timestamps are epoch ms). */
export interface JobRow {
  id: number
  name: string
  /** JSON text of the payload. */
  payload: string
  status: JobStatus
  live_key: string | null
  job_key: string | null
  lane: string | null
  user_id: number | null
  run_at: number
  /** Higher is claimed first. */
  priority: number
  /** The job's place in line among jobs of its priority (run_at, or later for a user with many jobs waiting). */
  fair_at: number | null
  /** Failed runs are retried until this time (epoch ms), whatever maxAttempts says; null: maxAttempts decides. */
  retry_until: number | null
  attempts: number
  max_attempts: number
  last_error: string | null
  locked_at: number | null
  locked_by: string | null
  lock_expires_at: number | null
  finished_at: number | null
  created_at: number
  updated_at: number
}

/**
 * The columns a claim reads back: what running, ordering, retrying and ending a job needs.
 * Not `RETURNING *`: the other columns (keys, the lock's owner and expiry, timestamps) are
 * known or unused, and in a fan-out every claimed row's fields outlive the young generation
 * while its batch runs. Reading only these cut what a 30k fire promoted to the old
 * generation by about a quarter (docs/BENCHMARKS.md).
 */
export const CLAIMED_JOB_COLUMNS = [
  'id',
  'name',
  'payload',
  'lane',
  'run_at',
  'priority',
  'fair_at',
  'retry_until',
  'attempts',
  'max_attempts',
  'locked_at'
] as const

/** A job as its claim returned it. */
export type ClaimedJob = Pick<JobRow, (typeof CLAIMED_JOB_COLUMNS)[number]>

/** A job that has died, as the queue's dead-job listeners get it. */
export type DeadJob = ClaimedJob & Pick<JobRow, 'status' | 'last_error'>

/** Thrown by a handler to say that retrying cannot help; the job goes straight to `dead`. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError'
}
