import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { JobQueue } from '../queue/job-queue.js'
import { cronFireKey } from '../queue/keys.js'
import type { JobName, KronusJobs } from '../queue/types.js'
import { isValidCron, nextFireAfter } from '../scheduling/cron.js'
import { Ticker } from '../scheduling/ticker.js'
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
  /** How often due schedules are looked for. Default 10 s. */
  tickIntervalMs?: number
}

/** A cron expression can only fail to fire again if it names a date that never comes, which parsing refuses. */
const NEVER = Number.MAX_SAFE_INTEGER

/**
 * Cron jobs that plugins schedule, one row each in `cron_schedules` with its next fire.
 * Each tick claims a due row with a conditional update on that fire time and enqueues
 * the job in the same transaction, so a fire is enqueued exactly once however many
 * processes tick, and one missed during downtime is made up once, not in a burst.
 */
export class CronSchedules {
  readonly #knex: Knex
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #queue: CronSchedulesOptions['queue']
  readonly #ticker: Ticker
  /** Only this process's schedules are fired: a row left by a removed plugin has no handler. */
  readonly #names = new Set<string>()

  constructor(options: CronSchedulesOptions) {
    this.#knex = options.knex
    this.#clock = options.clock
    this.#logger = options.logger.child({ component: 'cron-schedules' })
    this.#queue = options.queue
    this.#ticker = new Ticker('cron-schedules', options.tickIntervalMs ?? 10_000, () => this.tick(), this.#logger)
  }

  /**
   * Creates or updates the schedule of job `name`. The next fire is kept when the cron and
   * zone are unchanged, so a restart neither skips nor repeats one.
   */
  async schedule<N extends JobName>(name: N, cron: string, payload: KronusJobs[N], timeZone: string): Promise<void> {
    if (!this.#queue.isDefined(name)) throw new Error(`cannot schedule job "${name}": define it first`)
    if (!isValidCron(cron)) throw new Error(`cannot schedule job "${name}": "${cron}" is not a valid 5-field cron expression`)
    if (!isValidTimeZone(timeZone)) throw new Error(`cannot schedule job "${name}": "${timeZone}" is not an IANA time zone`)
    if (this.#names.has(name)) throw new Error(`job "${name}" is already scheduled`)
    const now = this.#clock.now()
    const row = { cron_expression: cron, time_zone: timeZone, payload: JSON.stringify(payload ?? null), updated_at: now }
    await this.#knex.transaction(async (trx) => {
      const existing: ScheduleRow | undefined = await trx('cron_schedules').where({ name }).first()
      if (!existing) {
        const nextRunAt = nextFireAfter(cron, now, timeZone) ?? NEVER
        await trx('cron_schedules').insert({ name, ...row, next_run_at: nextRunAt, created_at: now }).onConflict('name').ignore()
        return
      }
      const timingChanged = existing.cron_expression !== cron || existing.time_zone !== timeZone
      const next = timingChanged ? { next_run_at: nextFireAfter(cron, now, timeZone) ?? NEVER } : {}
      await trx('cron_schedules').where({ name }).update({ ...row, ...next })
    })
    this.#names.add(name)
  }

  /** Enqueues every due fire of this process's schedules; returns how many. */
  async tick(): Promise<number> {
    if (this.#names.size === 0) return 0
    const now = this.#clock.now()
    const due: ScheduleRow[] = await this.#knex('cron_schedules').whereIn('name', [...this.#names]).where('next_run_at', '<=', now)
    let fired = 0
    for (const row of due) {
      const fireAt = Number(row.next_run_at)
      const nextRunAt = nextFireAfter(row.cron_expression, now, row.time_zone) ?? NEVER
      const won = await this.#knex.transaction(async (trx) => {
        const claimed = await trx('cron_schedules').where({ name: row.name, next_run_at: fireAt }).update({ next_run_at: nextRunAt, updated_at: now })
        if (claimed !== 1) return false
        await this.#queue.enqueue(row.name as JobName, JSON.parse(row.payload), { key: cronFireKey(row.name, fireAt) }, trx)
        return true
      })
      if (won) {
        fired += 1
        this.#logger.debug({ job: row.name, fireAt }, 'cron job enqueued')
      }
    }
    return fired
  }

  start(): void {
    this.#ticker.start()
  }

  async stop(): Promise<void> {
    await this.#ticker.stop()
  }
}
