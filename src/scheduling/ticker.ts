import type { Logger } from 'pino'
import { AsyncTask, SimpleIntervalJob, ToadScheduler } from 'toad-scheduler'
import type { Clock } from '../clock.js'

const MINUTE_MS = 60_000
/** An aligned tick that failed (the database unreachable) is tried again this soon, not at the next minute. */
const FAILED_TICK_RETRY_MS = 5_000

export interface TickerOptions {
  /**
   * Tick when this clock reaches the next whole minute, or the next multiple of
   * `intervalMs` since the epoch if that comes first, instead of every `intervalMs` from
   * start. For the cron engines: every stored fire time is a whole minute (crons have
   * five fields), so a tick on the minute finds each fire the moment it is due, and an
   * idle server asks the database once a minute instead of once per interval.
   */
  alignedTo?: Clock
}

/**
 * Calls an async task every `intervalMs` (and once at start), never two at a time.
 * The queue, the cron engines and the watchdog each have one; nothing else in Kronus keeps timers,
 * so the work done per tick depends on what is due, not on how many users there are.
 */
export class Ticker {
  #scheduler: ToadScheduler | undefined
  #timer: NodeJS.Timeout | undefined
  #started = false
  /** Counts starts: an aligned tick still running from before a stop arms no timer after it. */
  #runs = 0
  #inFlight: Promise<unknown> | undefined

  constructor(
    private readonly id: string,
    private readonly intervalMs: number,
    /** An aligned ticker runs it again at once when it resolves `true`: it stopped with work left. */
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger,
    private readonly options: TickerOptions = {}
  ) {}

  get running(): boolean {
    return this.#started
  }

  start(): void {
    if (this.#started) return
    this.#started = true
    this.#runs += 1
    if (this.options.alignedTo) {
      // Start-up work (missed fires) happens at once, not at the next minute.
      this.#alignedTick()
      return
    }
    const scheduler = new ToadScheduler()
    const task = new AsyncTask(
      this.id,
      () => this.#run(),
      (err) => this.#failed(err)
    )
    // runImmediately: start-up work (missed fires, orphaned jobs) happens at once, not one interval later.
    scheduler.addSimpleIntervalJob(
      new SimpleIntervalJob({ milliseconds: this.intervalMs, runImmediately: true }, task, {
        id: this.id,
        preventOverrun: true
      })
    )
    this.#scheduler = scheduler
  }

  /** Stops ticking and waits for a tick in progress to end. */
  async stop(): Promise<void> {
    this.#started = false
    this.#scheduler?.stop()
    this.#scheduler = undefined
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#inFlight?.catch(() => undefined)
  }

  /** The first aligned time after `at`: the next whole minute, or multiple of intervalMs if sooner. */
  #nextAlignedAfter(at: number): number {
    const next = (every: number) => (Math.floor(at / every) + 1) * every
    return Math.min(next(MINUTE_MS), next(this.intervalMs))
  }

  #alignedTick(run = this.#runs): void {
    const clock = this.options.alignedTo!
    // From the tick's start: a tick still running when the minute comes is followed at once by
    // the minute's, which must not be skipped to the one after.
    const startedAt = clock.now()
    const nextAt = this.#nextAlignedAfter(startedAt)
    const next = (outcome: 'again' | 'done' | 'failed') => {
      // Stopped, or stopped and started again (that start has its own timer): this one ends here.
      if (this.#runs !== run || !this.#started) return
      // A timer may wake a moment before the clock says; that tick finds nothing due and the next is armed at once.
      // Never longer than from the tick's start: a clock set back (an NTP step) must not stop the ticks for as long.
      const untilNext = Math.min(Math.max(0, nextAt - clock.now()), nextAt - startedAt)
      const delayMs =
        outcome === 'again' ? 0 : outcome === 'failed' ? Math.min(untilNext, FAILED_TICK_RETRY_MS) : untilNext
      this.#timer = setTimeout(() => this.#alignedTick(run), delayMs)
    }
    this.#run().then(
      (result) => next(result === true ? 'again' : 'done'),
      (err) => {
        this.#failed(err)
        next('failed')
      }
    )
  }

  #failed(err: unknown): void {
    this.logger.error({ err, ticker: this.id }, 'tick failed')
  }

  #run(): Promise<unknown> {
    const tick = this.task()
    this.#inFlight = tick
    return tick.finally(() => {
      if (this.#inFlight === tick) this.#inFlight = undefined
    })
  }
}
