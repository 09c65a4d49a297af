import type { Logger } from 'pino'
import { AsyncTask, SimpleIntervalJob, ToadScheduler } from 'toad-scheduler'

/**
 * Calls an async task every `intervalMs` (and once at start), never two at a time.
 * The queue and the probe scheduler each have one; nothing else in Kronus keeps timers,
 * so the work done per tick depends on what is due, not on how many users there are.
 */
export class Ticker {
  #scheduler: ToadScheduler | undefined
  #inFlight: Promise<unknown> | undefined

  constructor(
    private readonly id: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<unknown>,
    private readonly logger: Logger
  ) {}

  get running(): boolean {
    return this.#scheduler !== undefined
  }

  start(): void {
    if (this.#scheduler) return
    const scheduler = new ToadScheduler()
    const task = new AsyncTask(
      this.id,
      () => this.#run(),
      (err) => {
        this.logger.error({ err, ticker: this.id }, 'tick failed')
      }
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
    this.#scheduler?.stop()
    this.#scheduler = undefined
    await this.#inFlight?.catch(() => undefined)
  }

  #run(): Promise<unknown> {
    const tick = this.task()
    this.#inFlight = tick
    return tick.finally(() => {
      if (this.#inFlight === tick) this.#inFlight = undefined
    })
  }
}
