import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import {
  CronEngine,
  type CronFire,
  type CronSource,
  DEFAULT_CRON_BATCH_SIZE,
  type DueSchedule
} from '../queue/cron-engine.js'
import type { JobQueue } from '../queue/job-queue.js'
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
  /** The started scheduler ticks on each whole minute, and this often if shorter. Default 60000 ms. */
  intervalMs?: number
  /** Rows read per query, and claimed in one transaction; a tick reads batches until nothing is due. Default 500. */
  batchSize?: number
}

export const DEFAULT_SCHEDULER_BATCH_SIZE = DEFAULT_CRON_BATCH_SIZE

interface ProbeSchedule extends DueSchedule {
  id: number
  userId: number
}

/**
 * Turns due probe schedules into probe.fire jobs: the cron engine over
 * probe_settings.next_fire_at (NULL while probes are off), read through its index, with
 * the window of probes.missedFireGraceMinutes. ProbeSettingsService keeps next_fire_at
 * in step with the cron, zone and `active`.
 */
export class ProbeScheduler {
  readonly #engine: CronEngine<ProbeSchedule>

  constructor(options: ProbeSchedulerOptions) {
    this.#engine = new CronEngine({
      name: 'probe-scheduler',
      knex: options.knex,
      clock: options.clock,
      logger: options.logger,
      source: probeSchedules(options),
      graceMs: options.missedFireGraceMinutes * 60_000,
      intervalMs: options.intervalMs ?? 60_000,
      batchSize: options.batchSize
    })
  }

  /** Enqueues a probe.fire for every due schedule; returns how many were enqueued. */
  tick(): Promise<number> {
    return this.#engine.tick()
  }

  start(): void {
    this.#engine.start()
  }

  stop(): Promise<void> {
    return this.#engine.stop()
  }
}

function probeSchedules(options: ProbeSchedulerOptions): CronSource<ProbeSchedule> {
  const { knex, queue, defaultTimeZone } = options
  return {
    async due(now, limit) {
      const rows: Array<{
        id: number | string
        user_id: number | string
        cron_expression: string
        time_zone: string | null
        next_fire_at: number | string
      }> = await knex('probe_settings')
        .select('id', 'user_id', 'cron_expression', 'time_zone', 'next_fire_at')
        .where('next_fire_at', '<=', now)
        .where('active', true)
        .orderBy('next_fire_at')
        .limit(limit)
      return rows.map((row) => ({
        id: Number(row.id),
        userId: Number(row.user_id),
        cronExpression: row.cron_expression,
        timeZone: row.time_zone ?? defaultTimeZone,
        dueAt: Number(row.next_fire_at)
      }))
    },
    async advance(trx, ids, from, to) {
      const rows: Array<{ id: number | string }> = await trx('probe_settings')
        .whereIn('id', ids)
        .where('next_fire_at', from)
        .update({ next_fire_at: to })
        .returning('id')
      return rows.map(({ id }) => Number(id))
    },
    enqueue(trx, fires: Array<CronFire<ProbeSchedule>>) {
      return queue.enqueueMany(
        PROBE_FIRE_JOB,
        fires.map(({ schedule, fireAt }) => ({
          payload: { userId: schedule.userId, fireAt },
          options: { key: probeFireKey(schedule.userId, fireAt), userId: schedule.userId }
        })),
        trx
      )
    },
    describe: (schedule) => ({ userId: schedule.userId })
  }
}
