import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ServiceContext } from './context.js'
import type { JobService } from './jobs.js'
import { checkInsByStatus, unresolvedAlarms } from './metrics-state.js'

/** A counter a plugin adds to GET /metrics (`kronus.metrics.counter`). */
export interface MetricCounter<Label extends string = string> {
  inc(labels?: Partial<Record<Label, string>>, value?: number): void
}

export interface MetricCounterSpec<Label extends string = string> {
  /** `kronus_<what>_total`, e.g. `kronus_webhook_deliveries_total`. */
  name: string
  /** What one unit is, for the HELP line. */
  help: string
  labelNames?: readonly Label[]
}

/** Seconds; from a fast read to a slow scrape or a send through a slow provider. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * One load shared by the collect() calls of one scrape: prom-client starts every
 * metric's collect() in the same tick, so the jobs' two gauges make one query.
 */
function sharedPerScrape<T>(load: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null
  return () => {
    inFlight ??= load().finally(() => {
      inFlight = null
    })
    return inFlight
  }
}

/**
 * GET /metrics: one Prometheus registry per Kronus, never prom-client's global one, so
 * two Kronuses in one process (tests, or a host embedding several) never mix numbers.
 *
 * Two kinds of metric, as Prometheus expects of several instances on one database:
 * - state, read from the database at scrape time (collect()): check-ins, unresolved
 *   alarms, due jobs. Every instance reports the same numbers; a dashboard takes max().
 * - events, counted by the instance they happened in (texts, webhook deliveries, HTTP
 *   requests), from the typed event log's in-memory listeners: sum() over instances.
 */
export class MetricsService {
  readonly #registry = new Registry()
  readonly #httpDuration: Histogram<'route' | 'method' | 'status_code'>

  constructor(ctx: ServiceContext, jobs: JobService) {
    const registers = [this.#registry]
    const { knex, clock, events } = ctx

    new Gauge({
      name: 'kronus_checkins',
      help: 'Check-ins started in the last 24 hours, by their status now (pending: waiting for an answer). Read from the database at scrape time: the same on every instance.',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await checkInsByStatus(knex, clock.now())
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n)
      }
    })
    new Gauge({
      name: 'kronus_alarms',
      help: 'Unresolved alarms by what raised them and their state (open: escalating, nobody acknowledged; exhausted: nobody acknowledged and every step is spent; acknowledged: a contact answered, not resolved yet). Read from the database at scrape time.',
      labelNames: ['trigger', 'state'],
      registers,
      async collect() {
        for (const { trigger, state, count } of await unresolvedAlarms(knex)) this.set({ trigger, state }, count)
      }
    })

    const dueJobs = sharedPerScrape(() => jobs.dueByLane())
    new Gauge({
      name: 'kronus_jobs_due',
      help: 'Jobs due now and not started, by lane (a serial lane without its per-user part, or the job name for jobs in no lane); a lane with none due is absent. Read from the database at scrape time.',
      labelNames: ['lane'],
      registers,
      async collect() {
        const lanes = await dueJobs()
        this.reset()
        for (const { lane, due } of lanes) this.set({ lane }, due)
      }
    })
    new Gauge({
      name: 'kronus_jobs_oldest_due_age_seconds',
      help: 'How long the oldest due job of each lane has been due, in seconds; a lane with none due is absent. Read from the database at scrape time.',
      labelNames: ['lane'],
      registers,
      async collect() {
        const lanes = await dueJobs()
        this.reset()
        for (const { lane, oldestDueAgeMs } of lanes) this.set({ lane }, oldestDueAgeMs / 1000)
      }
    })

    const raised = new Counter({
      name: 'kronus_alarms_raised_total',
      help: 'Alarms raised by this instance, by what raised them.',
      labelNames: ['trigger'],
      registers
    })
    events.on('alarm.raised', (event) => raised.inc({ trigger: event.trigger }))

    const sent = new Counter({
      name: 'kronus_texts_sent_total',
      help: 'Texts this instance handed to a channel (the provider accepted them), by channel.',
      labelNames: ['channel'],
      registers
    })
    events.on('message.sent', (event) => sent.inc({ channel: event.channel }))

    const failed = new Counter({
      name: 'kronus_texts_failed_total',
      help: 'Texts this instance gave up sending, by channel and reason (permanent: the provider refused it for good; retries_exhausted: it failed on every try).',
      labelNames: ['channel', 'reason'],
      registers
    })
    events.on('message.failed', (event) =>
      failed.inc({ channel: event.channel, reason: event.permanent ? 'permanent' : 'retries_exhausted' })
    )

    const delivered = new Counter({
      name: 'kronus_texts_delivered_total',
      help: 'Delivery receipts this instance received saying a text reached the phone, by channel.',
      labelNames: ['channel'],
      registers
    })
    events.on('message.delivered', (event) => delivered.inc({ channel: event.channel }))

    const undelivered = new Counter({
      name: 'kronus_texts_undelivered_total',
      help: "Delivery receipts this instance received saying a text the provider accepted did not reach the phone, by channel and reason (the provider's error code, e.g. 30003 unreachable, or its status when it gave none).",
      labelNames: ['channel', 'reason'],
      registers
    })
    events.on('message.undelivered', (event) =>
      undelivered.inc({
        channel: event.channel,
        reason: event.errorCode === null ? event.status : String(event.errorCode)
      })
    )

    this.#httpDuration = new Histogram({
      name: 'kronus_http_request_duration_seconds',
      help: 'HTTP requests this instance answered, by route template (not the raw path), method and status code, and how long each took.',
      labelNames: ['route', 'method', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers
    })
  }

  /** The Content-Type of render()'s text: Prometheus text format 0.0.4. */
  get contentType(): string {
    return this.#registry.contentType
  }

  /** Every metric in Prometheus text format; the state gauges query the database now. */
  render(): Promise<string> {
    return this.#registry.metrics()
  }

  /** One HTTP request answered: its route template (e.g. /v1/users/{uid}), method, status and duration. */
  observeRequest(request: { route: string; method: string; statusCode: number; seconds: number }): void {
    this.#httpDuration.observe(
      { route: request.route, method: request.method.toUpperCase(), status_code: String(request.statusCode) },
      request.seconds
    )
  }

  /**
   * A counter of this Kronus's /metrics, for plugins. A name already taken throws: a
   * developer's mistake, found at boot.
   */
  counter<Label extends string>(spec: MetricCounterSpec<Label>): MetricCounter<Label> {
    if (!/^kronus_[a-z0-9_]+_total$/.test(spec.name)) {
      throw new Error(`metric name "${spec.name}" must look like kronus_<what>_total (lower case, digits, _)`)
    }
    const counter = new Counter<Label>({
      name: spec.name,
      help: spec.help,
      labelNames: [...(spec.labelNames ?? [])],
      registers: [this.#registry]
    })
    return { inc: (labels = {}, value = 1) => counter.inc(labels, value) }
  }
}
