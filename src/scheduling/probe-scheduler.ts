import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { JobQueue } from '../queue/job-queue.js'
import { Ticker } from './ticker.js'
import { planFire, type FirePlan } from './fire-plan.js'
import { PROBE_FIRE_JOB, probeFireKey } from './probe-fire-job.js'

export interface ProbeSchedulerOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  /** Where probe.fire jobs go; only its enqueue is used. */
  queue: Pick<JobQueue, 'enqueue'>
  /** Zone of schedules whose user set none (kronus.cron.timeZone). */
  defaultTimeZone: string
  /** probes.missedFireGraceMinutes: a fire missed by more than this is skipped. */
  missedFireGraceMinutes: number
  /** How often the started scheduler ticks. Default 5000 ms. */
  intervalMs?: number
  /** Rows read per query; a tick reads batches until nothing is due. Default 200. */
  batchSize?: number
}

interface DueRow {
  id: number
  user_id: number
  cron_expression: string
  time_zone: string | null
  next_fire_at: number
}

/** A tick stops after this many batches; the next tick goes on, so one tick never runs unbounded. */
const MAX_BATCHES_PER_TICK = 50

/**
 * Turns due probe_settings rows into probe.fire jobs. There is no timer per user: every
 * schedule's next fire is a row, and each tick reads only the rows that are due through
 * the next_fire_at index. A row is claimed by a conditional update of its next_fire_at,
 * in the same transaction as the enqueue, so a fire is neither lost nor doubled by a
 * crash or a second scheduler. Start-up needs no special case: after down time the first
 * tick finds the missed fires due.
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
    const batchSize = this.#options.batchSize ?? 200
    let enqueued = 0
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
      const now = clock.now()
      const due: DueRow[] = await knex('probe_settings')
        .select('id', 'user_id', 'cron_expression', 'time_zone', 'next_fire_at')
        .where('next_fire_at', '<=', now)
        .where('active', true)
        .orderBy('next_fire_at')
        .limit(batchSize)
      for (const row of due) {
        if (await this.#fire({ ...row, next_fire_at: Number(row.next_fire_at) }, now)) enqueued++
      }
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

  async #fire(row: DueRow, now: number): Promise<boolean> {
    const plan = this.#plan(row, now)
    const outcome = await this.#options.knex.transaction(async (trx) => {
      const claimed = await trx('probe_settings')
        .where({ id: row.id, next_fire_at: row.next_fire_at })
        .update({ next_fire_at: plan.nextFireAt })
      if (claimed !== 1) return 'taken' as const
      if (plan.fireAt === null) return 'skipped' as const
      const job = await this.#options.queue.enqueue(
        PROBE_FIRE_JOB,
        { userId: row.user_id, fireAt: plan.fireAt },
        { key: probeFireKey(row.user_id, plan.fireAt), userId: row.user_id },
        trx
      )
      return job ? ('enqueued' as const) : ('duplicate' as const)
    })

    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    if (outcome === 'skipped') {
      this.#logger.warn(
        { userId: row.user_id, fireAt: iso(row.next_fire_at), nextFireAt: iso(plan.nextFireAt), graceMinutes: this.#options.missedFireGraceMinutes },
        'missed probe fire is older than the grace period; skipped'
      )
    } else if (outcome === 'enqueued' && plan.fireAt !== row.next_fire_at) {
      this.#logger.info(
        { userId: row.user_id, firstMissedAt: iso(row.next_fire_at), fireAt: iso(plan.fireAt) },
        'missed probe fires: sending only the latest'
      )
    }
    return outcome === 'enqueued'
  }
}
