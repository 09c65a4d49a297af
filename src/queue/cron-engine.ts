import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import { type FirePlan, planFire } from '../scheduling/fire-plan.js'
import { Ticker } from '../scheduling/ticker.js'

/** A schedule whose stored next fire has been reached, as a source reads it. */
export interface DueSchedule {
  /** The row's key, as the source's advance() takes it back. */
  id: number | string
  cronExpression: string
  timeZone: string
  /** The stored next fire (epoch ms), at or before now. */
  dueAt: number
}

/** A fire the engine claimed: its job is enqueued in the claiming transaction. */
export interface CronFire<S extends DueSchedule> {
  schedule: S
  fireAt: number
}

/**
 * The table the engine drives: each row holds a cron, a zone and its next fire. The
 * engine decides which fires are sent; the source knows where rows live and what job a
 * fire becomes.
 */
export interface CronSource<S extends DueSchedule> {
  /** Up to `limit` schedules whose next fire is at or before `now`, soonest first. */
  due(now: number, limit: number): Promise<S[]>
  /**
   * Moves the schedules `ids` whose next fire is still `from` on to `to` (null: the cron
   * never fires again), in `trx`, and returns the ids it moved: a rival's claim moved
   * the others first, and their fire is the rival's.
   */
  advance(
    trx: Knex.Transaction,
    ids: Array<S['id']>,
    from: number,
    to: number | null,
    now: number
  ): Promise<Array<S['id']>>
  /** Enqueues the job of each claimed fire in `trx`; returns how many were stored. */
  enqueue(trx: Knex.Transaction, fires: Array<CronFire<S>>): Promise<number>
  /** Log fields that name a schedule (its user, its job). */
  describe(schedule: S): Record<string, unknown>
}

export interface CronEngineOptions<S extends DueSchedule> {
  /** Names the ticker and the log lines. */
  name: string
  knex: Knex
  clock: Clock
  logger: Logger
  source: CronSource<S>
  /**
   * The missed-fire rule's window: after down time only the latest missed fire is sent,
   * and only if it is at most this old (Infinity: whatever its age).
   */
  graceMs: number
  /**
   * The started engine ticks on every whole minute of the clock, when stored fires fall
   * due, and on every multiple of this since the epoch if it is shorter (a fire stored
   * by hand at another time is found within it).
   */
  intervalMs: number
  /** Schedules read per query, and claimed in one transaction. Default 500. */
  batchSize?: number
}

export const DEFAULT_CRON_BATCH_SIZE = 500
/** A tick stops after this many batches and the started engine ticks again at once, so one tick never runs unbounded. */
const MAX_BATCHES_PER_TICK = 400

/**
 * The one database cron engine: probe schedules (probe_settings) and plugin cron
 * schedules (cron_schedules) are each a source of it. There is no timer per schedule:
 * every schedule's next fire is a row, and each tick reads only the rows that are due. A
 * row is claimed by a conditional update of its next fire, in the same transaction as
 * the enqueue, so a fire is neither lost nor doubled by a crash or a second process.
 * Start-up needs no special case: after down time the first tick finds the missed fires
 * due.
 *
 * The missed-fire rule, for every source: of the fires between the stored next fire and
 * now, only the latest is sent, once, and only if it is within the source's grace window;
 * the older ones are skipped, and a skip is logged. The next fire is the first after
 * now: never a burst. A safety service must not text "are you OK?" hours late, or
 * several times in a row, because the server was down; a check-in just missed is still
 * worth sending.
 *
 * Rows are claimed a batch at a time: one transaction, one UPDATE per group of rows that
 * move from the same fire time to the same next one (usually a handful), and multi-row
 * inserts of the jobs. When 100k schedules share a minute, that is what keeps the
 * scheduling share of the fan-out to seconds.
 */
export class CronEngine<S extends DueSchedule> {
  readonly #options: CronEngineOptions<S>
  readonly #logger: Logger
  readonly #ticker: Ticker

  constructor(options: CronEngineOptions<S>) {
    this.#options = options
    this.#logger = options.logger.child({ component: options.name })
    // On the clock's whole minutes, when fires fall due; a tick cut short by its batch limit goes on at once.
    this.#ticker = new Ticker(options.name, options.intervalMs, async () => (await this.#tick()).more, this.#logger, {
      alignedTo: options.clock
    })
  }

  /** Enqueues the job of every due fire; returns how many were enqueued. */
  async tick(): Promise<number> {
    return (await this.#tick()).enqueued
  }

  /** `more`: the tick stopped at its batch limit with fires still due. */
  async #tick(): Promise<{ enqueued: number; more: boolean }> {
    const { clock, source } = this.#options
    const batchSize = this.#options.batchSize ?? DEFAULT_CRON_BATCH_SIZE
    let enqueued = 0
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
      const now = clock.now()
      const due = await source.due(now, batchSize)
      if (due.length > 0) enqueued += await this.#fireBatch(due, now)
      if (due.length < batchSize) return { enqueued, more: false }
    }
    return { enqueued, more: true }
  }

  start(): void {
    this.#ticker.start()
  }

  async stop(): Promise<void> {
    await this.#ticker.stop()
  }

  #plan(schedule: S, now: number): FirePlan {
    try {
      return planFire({
        schedule: schedule.cronExpression,
        timeZone: schedule.timeZone,
        dueAt: schedule.dueAt,
        now,
        graceMs: this.#options.graceMs
      })
    } catch (err) {
      // Validation keeps bad crons out; should one get in, park the row rather than re-read it every tick.
      this.#logger.error(
        { err, ...this.#options.source.describe(schedule), cron: schedule.cronExpression },
        'cannot compute the schedule; its fires are paused'
      )
      return { fireAt: null, nextFireAt: null }
    }
  }

  async #fireBatch(due: S[], now: number): Promise<number> {
    const { knex, source } = this.#options
    // Schedules that share a cron share its plan: the cron walk is done once per (cron, zone, due time).
    const plans = new Map<string, FirePlan>()
    const planned = due.map((schedule) => {
      const key = `${schedule.cronExpression}\u0000${schedule.timeZone}\u0000${schedule.dueAt}`
      let plan = plans.get(key)
      if (!plan) plans.set(key, (plan = this.#plan(schedule, now)))
      return { schedule, plan }
    })
    const groups = new Map<string, { from: number; to: number | null; ids: Array<S['id']> }>()
    for (const { schedule, plan } of planned) {
      const key = `${schedule.dueAt}:${plan.nextFireAt}`
      const group = groups.get(key) ?? { from: schedule.dueAt, to: plan.nextFireAt, ids: [] }
      group.ids.push(schedule.id)
      groups.set(key, group)
    }

    const { claimed, enqueued } = await knex.transaction(async (trx) => {
      const claimed = new Set<S['id']>()
      for (const { from, to, ids } of groups.values()) {
        for (const part of chunks(ids)) {
          for (const id of await source.advance(trx, part, from, to, now)) claimed.add(id)
        }
      }
      const fires = planned
        .filter(({ schedule, plan }) => plan.fireAt !== null && claimed.has(schedule.id))
        .map(({ schedule, plan }) => ({ schedule, fireAt: plan.fireAt! }))
      const enqueued = fires.length === 0 ? 0 : await source.enqueue(trx, fires)
      return { claimed, enqueued }
    })

    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const graceMinutes = Number.isFinite(this.#options.graceMs) ? this.#options.graceMs / 60_000 : null
    for (const { schedule, plan } of planned) {
      if (!claimed.has(schedule.id)) continue
      const names = source.describe(schedule)
      if (plan.fireAt === null) {
        this.#logger.warn(
          { ...names, fireAt: iso(schedule.dueAt), nextFireAt: iso(plan.nextFireAt), graceMinutes },
          'missed fire is older than the grace period; skipped'
        )
      } else if (plan.fireAt !== schedule.dueAt) {
        this.#logger.info(
          { ...names, firstMissedAt: iso(schedule.dueAt), fireAt: iso(plan.fireAt) },
          'missed fires: sending only the latest'
        )
      }
    }
    return enqueued
  }
}
