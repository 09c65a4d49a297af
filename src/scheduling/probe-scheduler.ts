import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import type { JobQueue } from '../queue/job-queue.js'
import { Ticker } from './ticker.js'
import { planFire, type FirePlan } from './fire-plan.js'
import { probeFireKey } from '../queue/keys.js'
import { PROBE_FIRE_JOB } from './probe-fire-job.js'

export interface ProbeSchedulerOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  /** Where probe.fire jobs go; only its enqueueMany is used. */
  queue: Pick<JobQueue, 'enqueueMany'>
  /** Zone of schedules whose user set none (kronus.cron.timeZone). */
  defaultTimeZone: string
  /** probes.missedFireGraceMinutes: a fire missed by more than this is skipped. */
  missedFireGraceMinutes: number
  /** How often the started scheduler ticks. Default 5000 ms. */
  intervalMs?: number
  /** Rows read per query, and claimed in one transaction; a tick reads batches until nothing is due. Default 500. */
  batchSize?: number
}

interface DueRow {
  id: number
  user_id: number
  cron_expression: string
  time_zone: string | null
  next_fire_at: number
}

export const DEFAULT_SCHEDULER_BATCH_SIZE = 500
/** A tick stops after this many batches; the next tick goes on, so one tick never runs unbounded. */
const MAX_BATCHES_PER_TICK = 400

interface PlannedRow {
  row: DueRow
  plan: FirePlan
}

/**
 * Turns due probe_settings rows into probe.fire jobs. There is no timer per user: every
 * schedule's next fire is a row, and each tick reads only the rows that are due through
 * the next_fire_at index. A row is claimed by a conditional update of its next_fire_at,
 * in the same transaction as the enqueue, so a fire is neither lost nor doubled by a
 * crash or a second scheduler. Start-up needs no special case: after down time the first
 * tick finds the missed fires due.
 *
 * Rows are claimed a batch at a time: one transaction, one UPDATE per group of rows that
 * move from the same fire time to the same next one (usually a handful), and multi-row
 * inserts of the jobs. When 100k schedules share a minute, that is what keeps the
 * scheduler's share of the fan-out to seconds.
 */
export class ProbeScheduler {
  readonly #options: ProbeSchedulerOptions
  readonly #logger: Logger
  readonly #ticker: Ticker

  constructor(options: ProbeSchedulerOptions) {
    this.#options = options
    this.#logger = options.logger.child({ component: 'probe-scheduler' })
    this.#ticker = new Ticker('probe-scheduler', options.intervalMs ?? 5000, () => this.tick(), this.#logger)
  }

  /** Enqueues a probe.fire for every due schedule; returns how many were enqueued. */
  async tick(): Promise<number> {
    const { knex, clock } = this.#options
    const batchSize = this.#options.batchSize ?? DEFAULT_SCHEDULER_BATCH_SIZE
    let enqueued = 0
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
      const now = clock.now()
      const due: DueRow[] = await knex('probe_settings')
        .select('id', 'user_id', 'cron_expression', 'time_zone', 'next_fire_at')
        .where('next_fire_at', '<=', now)
        .where('active', true)
        .orderBy('next_fire_at')
        .limit(batchSize)
      if (due.length > 0) enqueued += await this.#fireBatch(due.map((row) => ({ ...row, user_id: Number(row.user_id), next_fire_at: Number(row.next_fire_at) })), now)
      if (due.length < batchSize) break
    }
    return enqueued
  }

  start(): void {
    this.#ticker.start()
  }

  async stop(): Promise<void> {
    await this.#ticker.stop()
  }

  #plan(row: DueRow, now: number): FirePlan {
    try {
      return planFire({
        schedule: row.cron_expression,
        timeZone: row.time_zone ?? this.#options.defaultTimeZone,
        dueAt: row.next_fire_at,
        now,
        graceMs: this.#options.missedFireGraceMinutes * 60_000
      })
    } catch (err) {
      // Validation keeps bad crons out; should one get in, park the row rather than re-read it every tick.
      this.#logger.error({ err, userId: row.user_id, cron: row.cron_expression }, 'cannot compute the schedule; probes for this user are paused')
      return { fireAt: null, nextFireAt: null }
    }
  }

  async #fireBatch(due: DueRow[], now: number): Promise<number> {
    // Users who share a schedule share its plan: the cron walk is done once per (schedule, zone, due time).
    const plans = new Map<string, FirePlan>()
    const planned: PlannedRow[] = due.map((row) => {
      const key = `${row.cron_expression}\u0000${row.time_zone ?? ''}\u0000${row.next_fire_at}`
      let plan = plans.get(key)
      if (!plan) plans.set(key, (plan = this.#plan(row, now)))
      return { row, plan }
    })
    const groups = new Map<string, { from: number; to: number | null; ids: number[] }>()
    for (const { row, plan } of planned) {
      const key = `${row.next_fire_at}:${plan.nextFireAt}`
      const group = groups.get(key) ?? { from: row.next_fire_at, to: plan.nextFireAt, ids: [] }
      group.ids.push(row.id)
      groups.set(key, group)
    }

    const { claimed, enqueued } = await this.#options.knex.transaction(async (trx) => {
      const claimed = new Set<number>()
      for (const { from, to, ids } of groups.values()) {
        for (const part of chunks(ids)) {
          // Conditional on the fire time read: a row another scheduler moved on is not returned, and not fired here.
          const rows: Array<{ id: number | string }> = await trx('probe_settings')
            .whereIn('id', part)
            .where('next_fire_at', from)
            .update({ next_fire_at: to })
            .returning('id')
          for (const { id } of rows) claimed.add(Number(id))
        }
      }
      const fires = planned
        .filter(({ row, plan }) => plan.fireAt !== null && claimed.has(row.id))
        .map(({ row, plan }) => ({
          payload: { userId: row.user_id, fireAt: plan.fireAt! },
          options: { key: probeFireKey(row.user_id, plan.fireAt!), userId: row.user_id }
        }))
      const enqueued = fires.length === 0 ? 0 : await this.#options.queue.enqueueMany(PROBE_FIRE_JOB, fires, trx)
      return { claimed, enqueued }
    })

    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    for (const { row, plan } of planned) {
      if (!claimed.has(row.id)) continue
      if (plan.fireAt === null) {
        this.#logger.warn(
          { userId: row.user_id, fireAt: iso(row.next_fire_at), nextFireAt: iso(plan.nextFireAt), graceMinutes: this.#options.missedFireGraceMinutes },
          'missed probe fire is older than the grace period; skipped'
        )
      } else if (plan.fireAt !== row.next_fire_at) {
        this.#logger.info({ userId: row.user_id, firstMissedAt: iso(row.next_fire_at), fireAt: iso(plan.fireAt) }, 'missed probe fires: sending only the latest')
      }
    }
    return enqueued
  }
}
