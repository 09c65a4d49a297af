import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { afterCommit } from '../db/after-commit.js'
import { chunks } from '../db/chunks.js'
import { isPostgres } from '../db/knex.js'
import { Ticker } from '../scheduling/ticker.js'
import { buryAbandonedJobs } from './abandoned.js'
import { nextRetryDelayMs } from './backoff.js'
import { claimBatch, claimDueJobs, releaseAbandonedJobs } from './claim.js'
import { JobNotRunError, WorkerStoppingError } from './errors.js'
import { GroupCommit } from './group-commit.js'
import { JobStatistics } from './job-statistics.js'
import { lookAround } from './look-around.js'
import { pruneSuccessfulJobs } from './prune.js'
import { runWithTimeout } from './run-with-timeout.js'
import {
  type BatchDefinitionOptions,
  type BatchHandler,
  type BatchJob,
  type ClaimedJob,
  type DeadJob,
  type EnqueueOptions,
  type JobDefinitionOptions,
  type JobHandler,
  type JobName,
  type JobRun,
  type KronusJobs,
  PermanentJobError
} from './types.js'
import { type JobsInserted, JobWakeListener } from './wake-listener.js'

export const DEFAULT_MAX_ATTEMPTS = 4
export const DEFAULT_TIMEOUT_MS = 60_000
/** Lock time beyond the timeout, so a live worker's claim never lapses while it still runs the job. */
const LOCK_MARGIN_MS = 30_000
/** With the poll interval on top, an orphaned job is claimed again within 5 minutes. */
export const MAX_LOCK_MS = 4 * 60_000
const MAX_ERROR_LENGTH = 2000
const PRUNE_EVERY_MS = 10 * 60_000
/** How long an aborted batch handler has to say what it did before it is left behind. */
const BATCH_ABORT_GRACE_MS = 15_000
/**
 * Spacing of one user's waiting jobs in claim order, for names defined with
 * fairAcrossUsers: a user's n-th waiting job is placed as if it came n × this later.
 */
export const FAIR_SPACING_MS = 1000
/** Jobs of this priority or higher may run in the urgent slots. */
export const URGENT_PRIORITY = 1
const LIVE_STATUSES = ['scheduled', 'enqueued', 'in-progress']
/** A listening worker's timer for a job's run_at is set at most this far ahead (setTimeout's limit is 24.8 days). */
const MAX_WAKE_TIMER_MS = 3600_000

export interface JobQueueOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  /** Names this worker in locked_by; unique per process by default. */
  workerId?: string
  /** Jobs run at the same time by this worker. Default 4. */
  concurrency?: number
  /**
   * Slots beyond `concurrency` that only urgent jobs (priority URGENT_PRIORITY or more:
   * alarms' texts and calls) may take, so an alarm never waits for a slot, even while
   * every shared one runs a long batch of check-in texts. Default 2 (a batch of texts
   * and a batch of calls at once).
   */
  urgentSlots?: number
  /** How often the started worker looks for due jobs. Default 1000 ms. */
  pollIntervalMs?: number
  /**
   * PostgreSQL: be woken by the jobs table's notifications (migration 0021, JobWakeListener)
   * and poll only every `safetyPollIntervalMs`, for what a notification could not tell
   * (a missed one, a lock that lapsed). Ignored on SQLite. Default off.
   */
  listenForJobs?: boolean
  /** The slow poll of a listening worker. Default 30 s. */
  safetyPollIntervalMs?: number
  /** Successful jobs older than this are deleted. Default 7 days. */
  pruneSuccessfulAfterMs?: number
  /** How long stop() waits for running jobs before putting them back in the queue. Default 10 s. */
  shutdownTimeoutMs?: number
  /** timeoutMs of jobs whose definition sets none. Default 60 s. */
  defaultTimeoutMs?: number
  /** lockMs of jobs whose definition sets none is their timeout plus this (at most MAX_LOCK_MS). Default 30 s. */
  lockMarginMs?: number
  /** PostgreSQL: jobs this process stores between two analyses of the jobs table (JobStatistics). Default 10,000. */
  analyzeAfterJobs?: number
  /**
   * Told about every job that ends `dead` (retries exhausted, permanent error, or worker
   * lost on its last try), with the error of its last run when there was one (none for a
   * lost worker), so that a hook recognises a failure by its type, not by its text.
   */
  onDead?: (job: DeadJob, cause?: unknown) => void | Promise<void>
}

interface Definition {
  /** Every handler is run as a batch handler: a single job's (define) is a batch of one. */
  handler: BatchHandler<unknown>
  /**
   * Jobs claimed at once, by name (defineBatch); null for a name whose jobs are claimed
   * one at a time, oldest first across names (define).
   */
  batchSize: number | null
  /** How long an aborted handler has to answer for its jobs before it is left behind. */
  abortGraceMs: number
  maxAttempts: number
  timeoutMs: number
  lockMs: number
  /** Workers of its own (JobDefinitionOptions.ownConcurrency), or null for the shared slots. */
  ownConcurrency: number | null
  /** Batched names only: a user's jobs are spread out in claim order. */
  fairAcrossUsers: boolean
  /** Jobs may have lanes: a single job's always, a batched name's when defined with `lanes` (a batch then takes the first of each). */
  lanes: boolean
}

/** Where a run takes its slot: the shared ones, the urgent ones, or its name's own workers. */
type Slot = 'shared' | 'urgent' | 'own'

/** What one slot of the worker runs: a batch of jobs of one name (of one job, for a single job). */
interface Run {
  slot: Slot
  jobs: ClaimedJob[]
  controller: AbortController
  done: Promise<void>
}

/** A claim's runs: how many jobs each holds, and when it ends. */
type Started = Array<{ jobs: number; done: Promise<void> }>

type Outcome = { ok: true } | { ok: false; error: unknown }

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer, got ${value}`)
  return value
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms)
  })
  return { promise, cancel: () => clearTimeout(timer) }
}

/**
 * A durable job queue in the `jobs` table. Every job lives in the database from
 * enqueue to its end, so a restart or crash loses nothing: a job whose worker vanished
 * is claimed again when its lock expires. Handlers run at least once; the unique key
 * and conditional writes keep duplicates out.
 */
export class JobQueue {
  readonly workerId: string
  readonly concurrency: number
  readonly #knex: Knex
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #options: JobQueueOptions
  readonly #definitions = new Map<string, Definition>()
  /** Runs whose handler holds a slot. */
  readonly #runs = new Set<Run>()
  /** Every run not yet ended, its handler running or its outcome being recorded. */
  readonly #unfinished = new Set<Promise<void>>()
  /** How many batches run now in the shared slots. */
  #batchesRunning = 0
  readonly urgentSlots: number
  /** Names defined with defineBatch, in definition order. */
  readonly #batchNames: string[] = []
  /** Which batched name claims first in the next pass. */
  #batchTurn = 0
  /**
   * Batched names that may have due jobs. A claim that comes back short takes its name
   * out, and only a poll or an enqueue in this process puts it back, so the claims made
   * each time a job ends do not query for batches that are not there.
   */
  readonly #batchesMaybeDue = new Set<string>()
  /** The same for names with workers of their own, claimed in every pass otherwise. */
  readonly #ownMaybeDue = new Set<string>()
  /** The same for urgent jobs of batched names, which the urgent slots claim. */
  readonly #urgentMaybeDue = new Set<string>()
  /** The same for urgent single jobs, which the urgent slots claim when the shared ones are full. */
  #urgentSinglesMaybeDue = true
  /** A notification or timer said a scheduled job may have come due: the next pass promotes. */
  #scheduledMaybeDue = false
  readonly #ticker: Ticker
  readonly #wakeListener: JobWakeListener | undefined
  /** PostgreSQL only: keeps the claims' plans up with a burst of jobs. */
  readonly #statistics: JobStatistics | undefined
  /** A wake-up set for the earliest known future run_at, and that time. */
  #wakeTimer: NodeJS.Timeout | undefined
  #wakeTimerAt = Number.POSITIVE_INFINITY
  #stopping = false
  #claiming: Promise<unknown> = Promise.resolve()
  #lastPruneAt: number | undefined
  readonly #deadListeners: Array<(job: DeadJob, cause?: unknown) => void | Promise<void>> = []
  readonly #pruneTasks: Array<(knex: Knex) => Promise<number>> = []
  /** The successes of runs that end at about the same time, recorded by one write. */
  readonly #successes = new GroupCommit<ClaimedJob>((jobs) => this.#recordSuccesses(jobs))
  /** A claim pass waiting for the one under way; later requests join it rather than queue another. */
  #queuedClaim: { housekeeping: boolean; started: Promise<Started> } | undefined

  constructor(options: JobQueueOptions) {
    this.#knex = options.knex
    this.#clock = options.clock
    this.#logger = options.logger.child({ component: 'job-queue' })
    this.#options = options
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`
    this.concurrency = positiveInteger(options.concurrency ?? 4, 'concurrency')
    this.urgentSlots = options.urgentSlots ?? 2
    if (!Number.isInteger(this.urgentSlots) || this.urgentSlots < 0)
      throw new Error(`urgentSlots must be a whole number, got ${this.urgentSlots}`)
    const listening = options.listenForJobs === true && isPostgres(this.#knex)
    const pollMs = listening ? (options.safetyPollIntervalMs ?? 30_000) : (options.pollIntervalMs ?? 1000)
    this.#ticker = new Ticker('job-queue', pollMs, () => this.#poll(), this.#logger)
    this.#wakeListener = listening
      ? new JobWakeListener(
          this.#knex,
          this.#logger,
          (inserted) => this.#inserted(inserted),
          () => this.#wake()
        )
      : undefined
    this.#statistics = isPostgres(this.#knex)
      ? new JobStatistics(this.#knex, this.#logger, options.analyzeAfterJobs)
      : undefined
    if (options.onDead) this.#deadListeners.push(options.onDead)
  }

  /**
   * Also tells `listener` about every job that ends `dead`. For what is built on the queue
   * (messaging, the event log) and reports dead jobs through it, so cannot be passed in.
   */
  onDead(listener: (job: DeadJob, cause?: unknown) => void | Promise<void>): void {
    this.#deadListeners.push(listener)
  }

  /** Registers the handler of a job type. Defining a name twice is a programming error. */
  define<N extends JobName>(name: N, handler: JobHandler<KronusJobs[N]>, options: JobDefinitionOptions = {}): void {
    const single = handler as JobHandler<unknown>
    // Run by the batch executor as a batch of one. It has nothing to answer for once
    // aborted, so it is left behind at once (no grace), as a single job always was.
    const asBatch: BatchHandler<unknown> = async (jobs) => {
      await single(jobs[0]!.payload, jobs[0]!.run)
      return [undefined]
    }
    this.#definitions.set(name, {
      ...this.#settings(name, options),
      handler: asBatch,
      batchSize: null,
      abortGraceMs: 0,
      fairAcrossUsers: false,
      lanes: true
    })
  }

  /**
   * Registers a handler that takes up to `batchSize` jobs of this name at once, for work
   * that costs far less in bulk (one transaction instead of one per job). Every job keeps
   * its own attempts, retries and end. Its jobs may have lanes only when `lanes` says so.
   */
  defineBatch<N extends JobName>(name: N, handler: BatchHandler<KronusJobs[N]>, options: BatchDefinitionOptions): void {
    const size = positiveInteger(options.batchSize, `batchSize of "${name}"`)
    if (options.ownConcurrency !== undefined)
      throw new Error(`job "${name}" is run in batches: ownConcurrency is for jobs defined with define()`)
    this.#definitions.set(name, {
      ...this.#settings(name, options),
      handler: handler as BatchHandler<unknown>,
      batchSize: size,
      abortGraceMs: BATCH_ABORT_GRACE_MS,
      fairAcrossUsers: options.fairAcrossUsers === true,
      lanes: options.lanes === true
    })
    this.#batchNames.push(name)
  }

  #settings(
    name: string,
    options: JobDefinitionOptions
  ): Omit<Definition, 'handler' | 'batchSize' | 'abortGraceMs' | 'fairAcrossUsers' | 'lanes'> {
    if (this.#definitions.has(name)) throw new Error(`job "${name}" is already defined`)
    const maxAttempts = positiveInteger(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, `maxAttempts of "${name}"`)
    const timeoutMs = positiveInteger(
      options.timeoutMs ?? this.#options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      `timeoutMs of "${name}"`
    )
    const margin = this.#options.lockMarginMs ?? LOCK_MARGIN_MS
    const lockMs = positiveInteger(options.lockMs ?? Math.min(timeoutMs + margin, MAX_LOCK_MS), `lockMs of "${name}"`)
    if (lockMs <= timeoutMs) throw new Error(`lockMs of "${name}" (${lockMs}) must exceed its timeoutMs (${timeoutMs})`)
    if (lockMs > MAX_LOCK_MS)
      throw new Error(`lockMs of "${name}" must be at most ${MAX_LOCK_MS} ms so a lost job is retried within 5 minutes`)
    const ownConcurrency =
      options.ownConcurrency === undefined
        ? null
        : positiveInteger(options.ownConcurrency, `ownConcurrency of "${name}"`)
    return { maxAttempts, timeoutMs, lockMs, ownConcurrency }
  }

  isDefined(name: string): boolean {
    return this.#definitions.has(name)
  }

  /** The names of the jobs this process can run. */
  definedNames(): string[] {
    return [...this.#definitions.keys()]
  }

  /**
   * Stores a job to run at `runAt` (now by default). Returns null, and changes nothing,
   * when a job with the same key is still live. Pass `trx` to enqueue atomically with
   * other writes.
   */
  async enqueue<N extends JobName>(
    name: N,
    payload: KronusJobs[N],
    options: EnqueueOptions = {},
    trx?: Knex.Transaction
  ): Promise<{ id: number } | null> {
    const row = this.#row(name, payload, options, this.#clock.now())
    await this.#placeFairly(name, [row], trx ?? this.#knex)
    this.#mayBeDue(name, row.priority)
    // ON CONFLICT DO NOTHING: unlike a caught unique violation it leaves a PostgreSQL transaction usable.
    const inserted: Array<{ id: number | string } | number | string> = await (trx ?? this.#knex)('jobs')
      .insert(row)
      .onConflict('live_key')
      .ignore()
      .returning('id')
    const first = inserted[0]
    if (first === undefined) return null
    this.#stored([row], trx)
    this.#statistics?.stored(1, trx)
    return { id: Number(typeof first === 'object' ? first.id : first) }
  }

  /**
   * enqueue() for many jobs of one name, in multi-row inserts. A job whose key is still
   * live is left out, as enqueue() would; returns how many were stored.
   */
  async enqueueMany<N extends JobName>(
    name: N,
    jobs: Array<{ payload: KronusJobs[N]; options?: EnqueueOptions }>,
    trx?: Knex.Transaction
  ): Promise<number> {
    const now = this.#clock.now()
    const rows = jobs.map((job) => this.#row(name, job.payload, job.options ?? {}, now))
    for (const row of rows) this.#mayBeDue(name, row.priority)
    let stored = 0
    for (const part of chunks(rows)) {
      await this.#placeFairly(name, part, trx ?? this.#knex)
      const inserted = await (trx ?? this.#knex)('jobs').insert(part).onConflict('live_key').ignore().returning('id')
      stored += inserted.length
    }
    if (stored > 0) {
      this.#stored(rows, trx)
      this.#statistics?.stored(stored, trx)
    }
    return stored
  }

  /**
   * Jobs stored by this process are claimed as soon as they are committed, not at the
   * next poll. A listening worker is told by the notification, as every instance is.
   */
  #stored(rows: Array<{ name: string; priority: number; status: string }>, trx?: Knex.Transaction): void {
    if (this.#wakeListener || !rows.some((row) => row.status === 'enqueued')) return
    const wake = () => {
      for (const row of rows) this.#mayBeDue(row.name, row.priority)
      this.#wake(false)
    }
    if (!trx) wake()
    else
      afterCommit(trx).then(
        (committed) => committed && wake(),
        () => undefined
      )
  }

  #row(name: string, payload: unknown, options: EnqueueOptions, now: number) {
    const runAt = options.runAt ?? now
    if (!Number.isFinite(runAt)) throw new Error(`runAt of "${name}" must be epoch milliseconds, got ${runAt}`)
    if (options.lane != null && this.#definitions.get(name)?.lanes === false)
      throw new Error(`job "${name}" is run in batches and cannot have a lane`)
    const maxAttempts = positiveInteger(
      options.maxAttempts ?? this.#definitions.get(name)?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      'maxAttempts'
    )
    const priority = options.priority ?? 0
    if (!Number.isInteger(priority)) throw new Error(`priority of "${name}" must be a whole number, got ${priority}`)
    const retryFor = options.retryForMs
    if (retryFor !== undefined && !(Number.isFinite(retryFor) && retryFor >= 0))
      throw new Error(`retryForMs of "${name}" must be a number of milliseconds, got ${retryFor}`)
    return {
      name,
      payload: JSON.stringify(payload ?? null),
      status: runAt > now ? 'scheduled' : 'enqueued',
      live_key: options.key ?? null,
      job_key: options.key ?? null,
      user_id: options.userId ?? null,
      lane: options.lane ?? null,
      run_at: runAt,
      priority,
      fair_at: runAt,
      retry_until: retryFor === undefined ? null : now + retryFor,
      attempts: 0,
      max_attempts: maxAttempts,
      created_at: now,
      updated_at: now
    }
  }

  /**
   * For names defined with fairAcrossUsers: places each job with a user after the jobs of
   * the same name and priority that user already has waiting (and after the earlier jobs
   * of `rows`), FAIR_SPACING_MS apart, so claims take users' jobs in turn. One grouped
   * read per call, along the jobs' user_id index.
   */
  async #placeFairly(
    name: string,
    rows: Array<{ user_id: number | null; priority: number; fair_at: number; run_at: number }>,
    db: Knex | Knex.Transaction
  ): Promise<void> {
    if (!this.#definitions.get(name)?.fairAcrossUsers) return
    const users = [...new Set(rows.flatMap((row) => (row.user_id === null ? [] : [row.user_id])))]
    if (users.length === 0) return
    const last = new Map<string, number>()
    // SQLite, left to choose, reads (name, status, ...): every waiting text of every user.
    const from: Knex.QueryBuilder = isPostgres(this.#knex)
      ? db('jobs')
      : db.from(db.raw('?? INDEXED BY ??', ['jobs', 'jobs_user_id_index']))
    const waiting: Array<{ user_id: number | string; priority: number | string; last: number | string | null }> =
      await from
        .select('user_id', 'priority')
        .max({ last: 'fair_at' })
        .where({ name })
        .whereIn('user_id', users)
        .whereIn('status', LIVE_STATUSES)
        .groupBy('user_id', 'priority')
    for (const w of waiting) if (w.last !== null) last.set(`${w.user_id}:${w.priority}`, Number(w.last))
    for (const row of rows) {
      if (row.user_id === null) continue
      const key = `${row.user_id}:${row.priority}`
      const before = last.get(key)
      if (before !== undefined) row.fair_at = Math.max(row.run_at, before + FAIR_SPACING_MS)
      last.set(key, row.fair_at)
    }
  }

  /** Removes a job that is still waiting (scheduled or enqueued) by its key; true if one was removed. */
  async cancel(key: string, trx?: Knex.Transaction): Promise<boolean> {
    const deleted = await (trx ?? this.#knex)('jobs')
      .where({ live_key: key })
      .whereIn('status', ['scheduled', 'enqueued'])
      .delete()
    return deleted > 0
  }

  /** One worker pass: claims what is due (up to the free concurrency), runs it, and returns how many ran. */
  async runDue(): Promise<number> {
    const started = await this.#claimAndStart()
    await Promise.all(started.map((run) => run.done))
    return started.reduce((sum, run) => sum + run.jobs, 0)
  }

  /** Runs passes until nothing is due at the clock's current time (tests drive time with a FakeClock). */
  async drain(maxPasses = 1000): Promise<void> {
    for (let pass = 0; pass < maxPasses; pass++) {
      if ((await this.runDue()) === 0) return
    }
    throw new Error(`jobs were still due after ${maxPasses} passes`)
  }

  /** Deletes successful jobs older than the configured age; returns how many. */
  async prune(): Promise<number> {
    const age = this.#options.pruneSuccessfulAfterMs ?? 7 * 24 * 3600_000
    const now = this.#clock.now()
    this.#lastPruneAt = now
    const deleted = await pruneSuccessfulJobs(this.#knex, now - age)
    if (deleted > 0) this.#logger.info({ deleted }, 'pruned successful jobs')
    for (const task of this.#pruneTasks) {
      try {
        const rows = await task(this.#knex)
        if (rows > 0) this.#logger.info({ rows }, 'pruned expired rows')
      } catch (err) {
        // Harmless: the rows are pruned at the next pass.
        this.#logger.warn({ err }, 'a prune task failed')
      }
    }
    return deleted
  }

  /** Adds housekeeping run with each prune (expired counters, say); it returns how many rows it deleted. */
  onPrune(task: (knex: Knex) => Promise<number>): void {
    this.#pruneTasks.push(task)
  }

  /** Starts polling for due jobs; runs start in the background, up to `concurrency` at a time. */
  start(): void {
    this.#stopping = false
    this.#ticker.start()
    this.#wakeListener?.start()
  }

  /** The listening connection's server process on PostgreSQL, while listening (for tests). */
  get listenerBackendPid(): number | undefined {
    return this.#wakeListener?.backendPid
  }

  /** Jobs were stored, by any instance: those due are claimed now, the others when their time comes. */
  #inserted({ runAt, names, priority }: JobsInserted): void {
    for (const name of names) this.#mayBeDue(name, priority)
    this.#wakeAt(runAt)
  }

  #wakeAt(runAt: number): void {
    if (!this.#wakeListener) return
    const wait = runAt - this.#clock.now()
    if (wait <= 0) {
      // Stored as scheduled if it was not due yet when it was written: promoted first.
      this.#scheduledMaybeDue = true
      this.#wake(false)
      return
    }
    // Further off, a later pass (the safety poll's) sets it, when it is this near.
    if (runAt >= this.#wakeTimerAt || wait > MAX_WAKE_TIMER_MS) return
    clearTimeout(this.#wakeTimer)
    this.#wakeTimerAt = runAt
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimerAt = Number.POSITIVE_INFINITY
      this.#wake()
    }, wait)
    this.#wakeTimer.unref()
  }

  /**
   * A claim pass outside the poll. With `housekeeping` (after listening again, or at a
   * run_at waited for) every name is looked at, as a poll would; without, only names known
   * to have jobs.
   */
  #wake(housekeeping = true): void {
    if (!this.#ticker.running || this.#stopping) return
    this.#claimAndStart(housekeeping).catch((err) => this.#logger.error({ err }, 'could not claim new jobs'))
  }

  /**
   * Stops taking jobs, waits up to `timeoutMs` for running ones, then aborts the rest and
   * puts them back in the queue, so nothing stays claimed by a worker that is gone.
   */
  async stop(timeoutMs = this.#options.shutdownTimeoutMs ?? 10_000): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#wakeTimer)
    this.#wakeTimerAt = Number.POSITIVE_INFINITY
    await this.#wakeListener?.stop()
    await this.#ticker.stop()
    await this.#claiming.catch(() => undefined)
    await this.#statistics?.settled()
    const waited = delay(timeoutMs)
    await Promise.race([Promise.allSettled([...this.#unfinished]), waited.promise])
    waited.cancel()
    const left = [...this.#runs]
    if (left.length === 0) {
      await Promise.allSettled([...this.#unfinished])
      return
    }
    this.#logger.warn(
      { jobs: left.flatMap((r) => r.jobs.map((job) => ({ id: job.id, name: job.name }))) },
      'stopping: putting unfinished jobs back in the queue'
    )
    for (const r of left) r.controller.abort(new WorkerStoppingError())
    // The releases are single writes; bounded all the same, since a lock that lapses also frees the job.
    const releasing = delay(timeoutMs)
    await Promise.race([Promise.allSettled([...this.#unfinished]), releasing.promise])
    releasing.cancel()
  }

  async #poll(): Promise<void> {
    await this.#claimAndStart()
    const now = this.#clock.now()
    if (this.#lastPruneAt === undefined || now - this.#lastPruneAt >= PRUNE_EVERY_MS) await this.prune()
  }

  /** Claims are serialised within this worker so concurrent passes never exceed `concurrency`. */
  #claimAndStart(housekeeping = true): Promise<Started> {
    // Runs that end while a claim is under way are refilled together by the next pass,
    // which claims for every slot then free in one statement, not one pass per slot.
    const queued = this.#queuedClaim
    if (queued) {
      queued.housekeeping ||= housekeeping
      return queued.started
    }
    const claim: { housekeeping: boolean; started: Promise<Started> } = { housekeeping, started: Promise.resolve([]) }
    claim.started = this.#claiming
      .catch(() => undefined)
      .then(() => {
        this.#queuedClaim = undefined
        return this.#claimOnce(claim.housekeeping)
      })
    this.#queuedClaim = claim
    this.#claiming = claim.started
    return claim.started
  }

  async #claimOnce(housekeeping: boolean): Promise<Started> {
    if (this.#stopping) return []
    const now = this.#clock.now()
    if (housekeeping) {
      if (!(await this.#housekeep(now))) return []
    } else if (this.#scheduledMaybeDue) {
      this.#scheduledMaybeDue = false
      await this.#promoteDueScheduled(now)
    }
    const started: Started = []
    await this.#claimOwn(now, started)
    await this.#claimShared(now, started)
    await this.#claimUrgent(now, started)
    return started
  }

  /**
   * A poll's (or a wake-up's) housekeeping: one read says whether a scheduled job came
   * due, a claim lapsed or a job of this worker's waits (`lookAround`); only then are due
   * jobs promoted, lapsed ones released or buried, and every name looked at. An idle
   * worker's poll is that one read. Returns whether the pass should claim.
   */
  async #housekeep(now: number): Promise<boolean> {
    const names = [...this.#definitions.keys()]
    const around = await lookAround(this.#knex, names, now)
    let changed = 0
    if (this.#scheduledMaybeDue || (around.nextScheduledAt !== null && around.nextScheduledAt <= now)) {
      this.#scheduledMaybeDue = false
      changed += await this.#promoteDueScheduled(now)
      if (this.#wakeListener) await this.#wakeAtNextScheduled()
    } else if (around.nextScheduledAt !== null) this.#wakeAt(around.nextScheduledAt)
    if (around.lapsed) {
      const released = await releaseAbandonedJobs(this.#knex, names, now)
      if (released > 0) this.#logger.warn({ jobs: released }, 'jobs whose worker stopped responding are queued again')
      changed += released
      for (const job of await buryAbandonedJobs(this.#knex, now)) {
        this.#logger.error({ jobId: job.id, name: job.name, error: job.last_error }, 'job is dead')
        await this.#notifyDead(job)
      }
    }
    if (!around.waiting && changed === 0) return false
    for (const name of this.#batchNames) {
      this.#batchesMaybeDue.add(name)
      this.#urgentMaybeDue.add(name)
    }
    for (const [name, d] of this.#definitions) if (d.ownConcurrency !== null) this.#ownMaybeDue.add(name)
    this.#urgentSinglesMaybeDue = true
    return true
  }

  #running(slot: Slot, name?: string): number {
    let n = 0
    for (const run of this.#runs) if (run.slot === slot && (name === undefined || run.jobs[0]!.name === name)) n++
    return n
  }

  /** Names with workers of their own (ownConcurrency) fill those, and only those. */
  async #claimOwn(now: number, started: Started): Promise<void> {
    for (const [name, definition] of this.#definitions) {
      if (definition.ownConcurrency === null) continue
      const free = definition.ownConcurrency - this.#running('own', name)
      if (free <= 0 || !this.#ownMaybeDue.has(name)) continue
      const jobs = await claimDueJobs(this.#knex, {
        now,
        workerId: this.workerId,
        lockMsByName: new Map([[name, definition.lockMs]]),
        limit: free,
        onLaneFailure: this.#laneFailed
      })
      if (jobs.length < free) this.#ownMaybeDue.delete(name)
      for (const job of jobs) started.push({ jobs: 1, done: this.#start([job], 'own') })
    }
  }

  /** The shared slots: batches (all but one slot), then single jobs, each in claim order (priority first). */
  async #claimShared(now: number, started: Started): Promise<void> {
    let free = this.concurrency - this.#running('shared')
    // Batches take at most all slots but one, so single jobs (timers, emergency deliveries)
    // always have a slot; at most one new batch per name per pass, names taking turns.
    const batchSlots = Math.max(1, this.concurrency - 1)
    for (const name of this.#batchNamesInTurn()) {
      if (free <= 0 || this.#batchesRunning >= batchSlots) break
      if (!this.#batchesMaybeDue.has(name)) continue
      const definition = this.#definitions.get(name)!
      const jobs = await claimBatch(this.#knex, {
        now,
        workerId: this.workerId,
        name,
        lockMs: definition.lockMs,
        limit: definition.batchSize!,
        lanes: definition.lanes
      })
      if (jobs.length < definition.batchSize!) {
        this.#batchesMaybeDue.delete(name)
        this.#urgentMaybeDue.delete(name)
      }
      if (jobs.length === 0) continue
      started.push({ jobs: jobs.length, done: this.#start(jobs, 'shared') })
      free -= 1
    }
    if (free <= 0) return
    const jobs = await claimDueJobs(this.#knex, {
      now,
      workerId: this.workerId,
      lockMsByName: this.#sharedSingleNames(),
      limit: free,
      onLaneFailure: this.#laneFailed
    })
    for (const job of jobs) started.push({ jobs: 1, done: this.#start([job], 'shared') })
  }

  /**
   * The urgent slots, for urgent jobs (alarms' texts and calls) the shared slots had no
   * room for: every shared slot runs (a fan-out's batches of check-in texts, each up to
   * its 20 s budget), or all those batches may take do. Claimed in the shared pass first
   * when there is room, since claims take higher priority first.
   */
  async #claimUrgent(now: number, started: Started): Promise<void> {
    let free = this.urgentSlots - this.#running('urgent')
    if (free <= 0) return
    const sharedFree = this.concurrency - this.#running('shared')
    const batchesFull = sharedFree <= 0 || this.#batchesRunning >= Math.max(1, this.concurrency - 1)
    if (batchesFull) {
      for (const name of this.#batchNamesInTurn()) {
        if (free <= 0) return
        if (!this.#urgentMaybeDue.has(name)) continue
        const definition = this.#definitions.get(name)!
        const jobs = await claimBatch(this.#knex, {
          now,
          workerId: this.workerId,
          name,
          lockMs: definition.lockMs,
          limit: definition.batchSize!,
          minPriority: URGENT_PRIORITY,
          lanes: definition.lanes
        })
        if (jobs.length < definition.batchSize!) this.#urgentMaybeDue.delete(name)
        if (jobs.length === 0) continue
        started.push({ jobs: jobs.length, done: this.#start(jobs, 'urgent') })
        free -= 1
      }
    }
    if (free <= 0 || sharedFree > 0 || !this.#urgentSinglesMaybeDue) return
    const jobs = await claimDueJobs(this.#knex, {
      now,
      workerId: this.workerId,
      lockMsByName: this.#sharedSingleNames(),
      limit: free,
      minPriority: URGENT_PRIORITY,
      onLaneFailure: this.#laneFailed
    })
    if (jobs.length < free) this.#urgentSinglesMaybeDue = false
    for (const job of jobs) started.push({ jobs: 1, done: this.#start([job], 'urgent') })
  }

  /** A job left enqueued because its lane could not be taken; the next claim (a wake or the next poll) tries again. */
  readonly #laneFailed = (job: ClaimedJob, err: unknown): void => {
    this.#logger.error(
      { err, jobId: job.id, job: job.name, lane: job.lane },
      "could not take a job's lane; the job stays enqueued for the next claim"
    )
  }

  /** Names claimed one job at a time in the shared slots: not batched, no workers of their own. */
  #sharedSingleNames(): Map<string, number> {
    return new Map(
      [...this.#definitions]
        .filter(([, d]) => d.batchSize === null && d.ownConcurrency === null)
        .map(([name, d]) => [name, d.lockMs])
    )
  }

  #mayBeDue(name: string, priority = 0): void {
    if (this.#definitions.get(name)?.ownConcurrency != null) this.#ownMaybeDue.add(name)
    if (priority >= URGENT_PRIORITY) this.#urgentSinglesMaybeDue = true
    if (!this.#isBatched(name)) return
    this.#batchesMaybeDue.add(name)
    if (priority >= URGENT_PRIORITY) this.#urgentMaybeDue.add(name)
  }

  /** Defined with defineBatch: claimed a batch at a time, by name. */
  #isBatched(name: string): boolean {
    const batchSize = this.#definitions.get(name)?.batchSize
    return batchSize !== undefined && batchSize !== null
  }

  /** The batched names, starting one further each pass, so that no name always claims first. */
  #batchNamesInTurn(): string[] {
    const names = this.#batchNames
    if (names.length < 2) return names
    const first = this.#batchTurn++ % names.length
    return [...names.slice(first), ...names.slice(0, first)]
  }

  /**
   * A listening worker polls seldom, so it sets a timer for the next scheduled job
   * (a later run, a retry recorded by any instance, a timer set before a restart): each
   * wake at one job's time looks for the next. One read along the (status, run_at) index.
   */
  async #wakeAtNextScheduled(): Promise<void> {
    const next: { run_at: number | string } | undefined = await this.#knex('jobs')
      .where('status', 'scheduled')
      .orderBy('run_at')
      .first('run_at')
    if (next) this.#wakeAt(Number(next.run_at))
  }

  /** A scheduled job whose time has come is shown as enqueued, whichever worker will run it. */
  async #promoteDueScheduled(now: number): Promise<number> {
    return this.#knex('jobs')
      .where('status', 'scheduled')
      .where('run_at', '<=', now)
      .update({ status: 'enqueued', updated_at: now })
  }

  #start(jobs: ClaimedJob[], slot: Slot): Promise<void> {
    const controller = new AbortController()
    const run: Run = { slot, jobs, controller, done: Promise.resolve() }
    const batch = slot === 'shared' && this.#isBatched(jobs[0]!.name)
    if (batch) this.#batchesRunning += 1
    let holding = true
    // The slot is free once the handler has answered: the next claim runs while the
    // outcomes are recorded, rather than after.
    const release = () => {
      if (!holding) return
      holding = false
      if (batch) this.#batchesRunning -= 1
      this.#runs.delete(run)
      this.#refill()
    }
    run.done = this.#execute(jobs, controller, release)
      .then(
        (anyFailed) => anyFailed,
        () => true
      )
      .then((anyFailed) => {
        release()
        this.#unfinished.delete(run.done)
        // A job's end may make the next job of its lane claimable, and a job given back
        // (its attempt returned) is due again: claim once their records are in.
        const laned = jobs.some((job) => job.lane !== null)
        if (laned) this.#mayBeDue(jobs[0]!.name)
        if (anyFailed || laned) this.#refill()
      })
    this.#runs.add(run)
    this.#unfinished.add(run.done)
    return run.done
  }

  /**
   * A started worker claims again as soon as a slot frees, rather than at the next poll:
   * polling alone runs at most `concurrency` jobs per poll interval (4 a second by
   * default), so a fan-out of 100k probes would take hours (found by bench/fanout.ts).
   * When nothing is due the claim finds nothing and the worker is back to polling. The
   * housekeeping writes (promoting, burying) stay with the poll.
   */
  #refill(): void {
    if (!this.#ticker.running || this.#stopping) return
    this.#claimAndStart(false).catch((err) => this.#logger.error({ err }, 'could not claim the next job'))
  }

  /**
   * The one executor, of batches and of single jobs (batches of one). A batch shares one
   * timeout and one abort signal; each job ends on its own outcome. The successes, nearly
   * always all of them, are recorded by one UPDATE per few hundred jobs (those the
   * handler ended early are already), together with those of the runs that ended at about
   * the same time (group commit: the single jobs of one claim cost one write), the
   * failures one by one. The slot is freed when the handler has answered, so the next
   * claim runs while the outcomes are recorded. Resolves whether any job failed.
   */
  async #execute(jobs: ClaimedJob[], controller: AbortController, handlerEnded: () => void): Promise<boolean> {
    const definition = this.#definitions.get(jobs[0]!.name)!
    const { handler } = definition
    const outcomes: Outcome[] = new Array(jobs.length)
    const items: Array<BatchJob<unknown>> = []
    const itemIndex: number[] = []
    jobs.forEach((job, i) => {
      try {
        items.push({ payload: JSON.parse(job.payload), run: jobRun(job, definition.timeoutMs, controller.signal) })
        itemIndex.push(i)
      } catch (error) {
        outcomes[i] = { ok: false, error }
      }
    })
    // Jobs the handler ended early, once their transaction has committed.
    const completed = new Set<number>()
    const completing: Array<Promise<unknown>> = []
    const control = {
      complete: async (indexes: number[], trx?: Knex.Transaction) => {
        const fresh = [...new Set(indexes)].filter(
          (k) => Number.isInteger(k) && k >= 0 && k < items.length && !completed.has(itemIndex[k]!)
        )
        if (fresh.length === 0) return
        await this.#recordSuccesses(
          fresh.map((k) => jobs[itemIndex[k]!]!),
          trx
        )
        const done = (trx ? afterCommit(trx) : Promise.resolve(true)).then((committed) => {
          if (committed) for (const k of fresh) completed.add(itemIndex[k]!)
        })
        completing.push(done)
      }
    }
    try {
      const errors =
        items.length === 0
          ? []
          : await runWithTimeout(
              (signal) => handler(items, signal, control),
              definition.timeoutMs,
              definition.abortGraceMs,
              controller
            )
      if (!Array.isArray(errors) || errors.length !== items.length) {
        throw new Error(
          `the batch handler of "${jobs[0]!.name}" answered ${Array.isArray(errors) ? errors.length : 'no'} outcomes for ${items.length} jobs`
        )
      }
      errors.forEach((error, k) => {
        outcomes[itemIndex[k]!] = error === undefined || error === null ? { ok: true } : { ok: false, error }
      })
    } catch (error) {
      for (const i of itemIndex) outcomes[i] = { ok: false, error }
    }
    handlerEnded()
    await Promise.all(completing)
    for (const i of completed) outcomes[i] = { ok: true }
    try {
      await this.#successes.add(jobs.filter((_, i) => outcomes[i]!.ok && !completed.has(i)))
    } catch (err) {
      this.#logger.error(
        { err, name: jobs[0]!.name, jobs: jobs.length },
        'could not record the end of a run; its jobs will run again when their locks lapse'
      )
    }
    let anyFailed = false
    for (const [i, job] of jobs.entries()) {
      const outcome = outcomes[i]!
      if (outcome.ok) continue
      anyFailed = true
      try {
        await this.#recordFailure(job, outcome.error)
      } catch (err) {
        this.#logger.error({ err, jobId: job.id, name: job.name }, 'could not record the end of a job run')
      }
    }
    return anyFailed
  }

  async #recordSuccesses(jobs: ClaimedJob[], trx?: Knex.Transaction): Promise<void> {
    const now = this.#clock.now()
    const byAttempt = new Map<number, number[]>()
    for (const job of jobs) {
      // Pushed, not copied: a group commit ends thousands of jobs, mostly of one attempt.
      const ids = byAttempt.get(job.attempts)
      if (ids) ids.push(job.id)
      else byAttempt.set(job.attempts, [job.id])
    }
    for (const [attempts, ids] of byAttempt) {
      for (const part of chunks(ids)) {
        await (trx ?? this.#knex)('jobs')
          .whereIn('id', part)
          .where({ status: 'in-progress', locked_by: this.workerId, attempts })
          .update({
            locked_at: null,
            locked_by: null,
            lock_expires_at: null,
            updated_at: now,
            status: 'successful',
            live_key: null,
            finished_at: now
          })
      }
    }
  }

  /** A failed run: its attempt given back (not the job's fault), retried with backoff, or dead. */
  async #recordFailure(job: ClaimedJob, error: unknown): Promise<void> {
    const now = this.#clock.now()
    const unlock = { locked_at: null, locked_by: null, lock_expires_at: null, updated_at: now }
    // Only the worker holding this attempt may finish it; a lapsed claim taken over by another worker is left alone.
    const mine = () =>
      this.#knex('jobs').where({ id: job.id, status: 'in-progress', locked_by: this.workerId, attempts: job.attempts })

    if (error instanceof WorkerStoppingError || error instanceof JobNotRunError) {
      // Not the job's fault: the attempt is given back.
      const place = error instanceof JobNotRunError && error.behindWaiting ? { fair_at: now } : {}
      await mine().update({ ...unlock, ...place, status: 'enqueued', attempts: job.attempts - 1 })
      this.#mayBeDue(job.name, job.priority)
      return
    }
    const lastError = describe(error)
    // A job retried until a deadline (an alarm's text) ends when that has passed, not after maxAttempts.
    const exhausted = job.retry_until === null ? job.attempts >= job.max_attempts : now >= job.retry_until
    if (error instanceof PermanentJobError || exhausted) {
      const change = { ...unlock, status: 'dead' as const, live_key: null, last_error: lastError, finished_at: now }
      if ((await mine().update(change)) === 1) {
        this.#logger.error({ jobId: job.id, name: job.name, attempts: job.attempts, error: lastError }, 'job is dead')
        await this.#notifyDead({ ...job, ...change }, error)
      }
      return
    }
    const runAt = now + nextRetryDelayMs(job.attempts, job.retry_until)
    this.#logger.warn(
      {
        jobId: job.id,
        name: job.name,
        attempt: job.attempts,
        retryAt: new Date(runAt).toISOString(),
        error: lastError
      },
      'job failed; will retry'
    )
    // Back in line at its new time, behind the jobs that came meanwhile.
    await mine().update({ ...unlock, status: 'scheduled', run_at: runAt, fair_at: runAt, last_error: lastError })
    this.#wakeAt(runAt)
  }

  async #notifyDead(job: DeadJob, cause?: unknown): Promise<void> {
    for (const listener of this.#deadListeners) {
      try {
        await listener(job, cause)
      } catch (err) {
        this.#logger.error({ err, jobId: job.id }, 'onDead callback failed')
      }
    }
  }
}

function jobRun(job: ClaimedJob, timeoutMs: number, signal: AbortSignal): JobRun {
  return {
    id: job.id,
    name: job.name,
    attempt: job.attempts,
    maxAttempts: job.max_attempts,
    runAt: job.run_at,
    // locked_at is the claim's clock time; a claimed row always has it.
    deadline: Number(job.locked_at) + timeoutMs,
    signal
  }
}
