import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { CronEngine, type CronSource, type DueSchedule } from '../queue/cron-engine.js'
import type { JobQueue } from '../queue/job-queue.js'
import { cronFireKey } from '../queue/keys.js'
import type { JobName, KronusJobs } from '../queue/types.js'
import { isValidCron, nextFireAfter } from '../scheduling/cron.js'
import { isValidTimeZone } from '../util/time.js'

interface ScheduleRow {
  name: string
  cron_expression: string
  time_zone: string
  payload: string
  next_run_at: number | string
}

export interface CronSchedulesOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: Pick<JobQueue, 'enqueue' | 'isDefined'>
  /** Due schedules are looked for on each whole minute, and this often if shorter. Default 60 s. */
  tickIntervalMs?: number
}

/** A cron expression can only fail to fire again if it names a date that never comes, which parsing refuses. */
const NEVER = Number.MAX_SAFE_INTEGER

/**
 * Cron jobs that plugins schedule, one row each in `cron_schedules` with its next fire:
 * the cron engine over that table. A fire is enqueued exactly once however many
 * processes tick, and of the fires missed during down time the latest is made up once,
 * whatever its age, never a burst (the engine's missed-fire rule, with no grace limit).
 */
export class CronSchedules {
  readonly #knex: Knex
  readonly #clock: Clock
  readonly #queue: CronSchedulesOptions['queue']
  readonly #engine: CronEngine<PluginSchedule>
  /** Only this process's schedules are fired: a row left by a removed plugin has no handler. */
  readonly #names = new Set<string>()

  constructor(options: CronSchedulesOptions) {
    this.#knex = options.knex
    this.#clock = options.clock
    this.#queue = options.queue
    this.#engine = new CronEngine({
      name: 'cron-schedules',
      knex: options.knex,
      clock: options.clock,
      logger: options.logger,
      source: pluginSchedules(this.#knex, this.#queue, this.#names),
      // A report or a backup is still worth running late: the latest missed fire is made up whatever its age.
      graceMs: Number.POSITIVE_INFINITY,
      intervalMs: options.tickIntervalMs ?? 60_000
    })
  }

  /**
   * Creates or updates the schedule of job `name`. The next fire is kept when the cron and
   * zone are unchanged, so a restart neither skips nor repeats one.
   */
  async schedule<N extends JobName>(name: N, cron: string, payload: KronusJobs[N], timeZone: string): Promise<void> {
    if (!this.#queue.isDefined(name)) throw new Error(`cannot schedule job "${name}": define it first`)
    if (!isValidCron(cron))
      throw new Error(`cannot schedule job "${name}": "${cron}" is not a valid 5-field cron expression`)
    if (!isValidTimeZone(timeZone))
      throw new Error(`cannot schedule job "${name}": "${timeZone}" is not an IANA time zone`)
    if (this.#names.has(name)) throw new Error(`job "${name}" is already scheduled`)
    const now = this.#clock.now()
    const row = {
      cron_expression: cron,
      time_zone: timeZone,
      payload: JSON.stringify(payload ?? null),
      updated_at: now
    }
    await this.#knex.transaction(async (trx) => {
      const existing: ScheduleRow | undefined = await trx('cron_schedules').where({ name }).first()
      if (!existing) {
        const nextRunAt = nextFireAfter(cron, now, timeZone) ?? NEVER
        await trx('cron_schedules')
          .insert({ name, ...row, next_run_at: nextRunAt, created_at: now })
          .onConflict('name')
          .ignore()
        return
      }
      const timingChanged = existing.cron_expression !== cron || existing.time_zone !== timeZone
      const next = timingChanged ? { next_run_at: nextFireAfter(cron, now, timeZone) ?? NEVER } : {}
      await trx('cron_schedules')
        .where({ name })
        .update({ ...row, ...next })
    })
    this.#names.add(name)
  }

  /** Enqueues every due fire of this process's schedules; returns how many. */
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

interface PluginSchedule extends DueSchedule {
  id: string
  payload: string
}

function pluginSchedules(
  knex: Knex,
  queue: CronSchedulesOptions['queue'],
  names: ReadonlySet<string>
): CronSource<PluginSchedule> {
  return {
    async due(now, limit) {
      if (names.size === 0) return []
      const rows: ScheduleRow[] = await knex('cron_schedules')
        .whereIn('name', [...names])
        .where('next_run_at', '<=', now)
        .orderBy('next_run_at')
        .limit(limit)
      return rows.map((row) => ({
        id: row.name,
        cronExpression: row.cron_expression,
        timeZone: row.time_zone,
        payload: row.payload,
        dueAt: Number(row.next_run_at)
      }))
    },
    async advance(trx, ids, from, to, now) {
      const moved: string[] = []
      // One row per job name, and few of them: one conditional update each.
      for (const name of ids) {
        const claimed = await trx('cron_schedules')
          .where({ name, next_run_at: from })
          .update({ next_run_at: to ?? NEVER, updated_at: now })
        if (claimed === 1) moved.push(name)
      }
      return moved
    },
    async enqueue(trx, fires) {
      let stored = 0
      for (const { schedule, fireAt } of fires) {
        const job = await queue.enqueue(
          schedule.id as JobName,
          JSON.parse(schedule.payload),
          { key: cronFireKey(schedule.id, fireAt) },
          trx
        )
        if (job) stored += 1
      }
      return stored
    },
    describe: (schedule) => ({ job: schedule.id })
  }
}
