import type { Logger } from 'pino'
import type { JobQueue } from '../queue/job-queue.js'
import type { DegradedCondition } from './watchdog.js'

declare module '../queue/types.js' {
  interface KronusJobs {
    /** On kronus.heartbeat's interval: GETs its URL, with /fail appended while Kronus is degraded. */
    'kronus.heartbeat': Record<string, never>
  }
}

export const HEARTBEAT_JOB = 'kronus.heartbeat'

/** A monitor answers a ping at once; one that does not is not waited for past this. */
export const HEARTBEAT_TIMEOUT_MS = 10_000

/** The cron that fires every `intervalSeconds` (a whole number of minutes dividing an hour), evenly through each hour. */
export function heartbeatCron(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60
  return minutes >= 60 ? '0 * * * *' : minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`
}

/** The URL to ping: the configured one, or with `/fail` appended to its path (Healthchecks' failure signal). */
export function heartbeatUrl(url: string, degraded: boolean): string {
  if (!degraded) return url
  const failing = new URL(url)
  failing.pathname = `${failing.pathname.replace(/\/+$/, '')}/fail`
  return failing.toString()
}

export interface HeartbeatOptions {
  url: string
  logger: Logger
  queue: Pick<JobQueue, 'define'>
  /** What is wrong now (the watchdog's conditions): any, and the ping says fail. */
  conditions: () => Promise<DegradedCondition[]>
  timeoutMs?: number
}

/**
 * The ping a monitor such as Healthchecks.io waits for. It runs as a job on the durable
 * cron, so several instances on one database ping once per interval between them, and a
 * stuck queue stops the pings: what the monitor must see. A ping that fails is logged and
 * left: the next interval's comes anyway.
 */
export class Heartbeat {
  readonly #options: HeartbeatOptions

  constructor(options: HeartbeatOptions) {
    this.#options = options
  }

  registerJobs(): void {
    // A late retry would only tell the monitor something stale.
    this.#options.queue.define(HEARTBEAT_JOB, () => this.ping(), { maxAttempts: 1 })
  }

  /** Pings the URL, with /fail while degraded; never throws for the monitor's sake. */
  async ping(): Promise<void> {
    const { logger } = this.#options
    // Conditions that cannot be read fail the run: no ping, and the monitor alerts.
    const conditions = await this.#options.conditions()
    const url = heartbeatUrl(this.#options.url, conditions.length > 0)
    try {
      const response = await fetch(url, {
        method: 'GET',
        redirect: 'follow',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? HEARTBEAT_TIMEOUT_MS)
      })
      // The body is not needed; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined)
      if (!response.ok)
        logger.warn({ status: response.status }, `the heartbeat monitor answered HTTP ${response.status}`)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      logger.warn({ err }, `could not ping the heartbeat monitor: ${reason}`)
    }
  }
}
