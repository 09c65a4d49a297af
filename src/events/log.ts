import Emittery from 'emittery'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { afterCommit } from '../db/after-commit.js'
import { chunks } from '../db/chunks.js'
import { inSavepoint } from '../db/savepoint.js'
import { JobNotRunError } from '../queue/errors.js'
import type { JobQueue } from '../queue/job-queue.js'
import { eventDeliveryLane } from '../queue/keys.js'
import type { JobRow } from '../queue/types.js'
import { runFairly } from '../util/run-fairly.js'
import { CORE_EVENT_NAMES, EVENT_NAME_PATTERN } from './names.js'
import type { EventName, KronusEvents, NewEvent, RecordedEvent } from './types.js'

declare module '../queue/types.js' {
  interface KronusJobs {
    /** Hands one logged event to one durable subscriber. */
    'events.deliver': { subscriber: string; eventId: number }
  }
}

/** What the event log needs of the job queue. */
export type DeliveryQueue = Pick<JobQueue, 'defineBatch' | 'enqueueMany'>

export type EventListener<N extends EventName> = (
  payload: KronusEvents[N],
  event: RecordedEvent<N>
) => void | Promise<void>
export type DurableHandler<N extends EventName> = (event: RecordedEvent<N>) => Promise<void>

export interface SubscribeOptions<N extends EventName = EventName> {
  /** Tries per event before its delivery job is `dead` and the next event goes through. Default: the queue's. */
  maxAttempts?: number
  /**
   * Which of the events being recorded the subscriber will act on, one answer per event:
   * those it says no to are never queued for it. It runs in the recording transaction
   * (inside a savepoint), once per batch of events, so it should be one cheap read, e.g.
   * "which of these users have a webhook". It must decide only on what is already
   * committed with or before the event. Should it fail, every event is delivered.
   */
  wants?: (events: Array<RecordedEvent<N>>, trx: Knex.Transaction) => Promise<boolean[]>
  /**
   * The priority of this subscriber's delivery jobs (default 0). Deliveries of all
   * subscribers share one job name, so without it an alarm's receipt would wait in line
   * behind a backlog another subscriber's slow handler left. At 1 (URGENT_PRIORITY) or more
   * they are claimed first and may take the queue's urgent slots: for alarm work only.
   */
  priority?: number
}

/**
 * How an event is recorded. `hiddenFromUser`: the event is about its user but must not be
 * shown to them (every event of a duress alarm: the person may be made to open their
 * account by whoever threatens them). Their own GET /v1/events and their own webhooks
 * leave it out; administrators, configured webhooks and durable subscribers get it.
 * For recordMany, one flag for all the events or one per event.
 */
export interface RecordOptions {
  hiddenFromUser?: boolean
}

export interface RecordManyOptions {
  hiddenFromUser?: boolean | readonly boolean[]
}

export interface EventFilter {
  type?: EventName
  /** Only events with a larger id: a cursor for polling. */
  after?: number
  userId?: number
  /** Only events the user they are about may see (not hiddenFromUser). */
  visibleToUser?: boolean
  /** Default 100, at most 1000. */
  limit?: number
}

interface Subscriber {
  types: Set<string>
  handler: DurableHandler<any>
  maxAttempts?: number
  wants?: SubscribeOptions<any>['wants']
  priority: number
}

interface EventRow {
  id: number | string
  type: string
  user_id: number | null
  payload: string
  hidden_from_user: boolean | number
  created_at: number | string
}

export interface EventLogOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: DeliveryQueue
}

export const DELIVERY_JOB = 'events.deliver'
/** Deliveries claimed at once: each the first waiting in its lane (one subscriber, one user). */
const DELIVERY_BATCH = 100
/**
 * Handlers of one batch run at once, since deliveries of different lanes owe one another
 * no order, and a slow subscriber (a user's plugin calling out) must not make the rest of
 * its batch wait in line. A few, not all: they share the database's pool with the API.
 */
const DELIVERIES_AT_ONCE = 8
const MAX_LIST_LIMIT = 1000

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: Number(row.id),
    type: row.type as EventName,
    userId: row.user_id === null ? null : Number(row.user_id),
    payload: JSON.parse(row.payload),
    hiddenFromUser: Boolean(row.hidden_from_user),
    createdAt: Number(row.created_at)
  }
}

/**
 * The typed event log. An event is a row written in the same transaction as the change it
 * describes, so the two commit or vanish together. Durable subscribers get it through the
 * job queue (at least once, retried, in order per user); in-memory listeners get it once
 * the transaction has committed, never for a change that was rolled back.
 */
export class EventLog {
  readonly #knex: Knex
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #queue: DeliveryQueue
  readonly #emitter = new Emittery<Record<string, RecordedEvent<any>>>()
  readonly #subscribers = new Map<string, Subscriber>()
  readonly #types = new Set<string>(CORE_EVENT_NAMES)
  readonly #pending = new Set<Promise<void>>()

  constructor(options: EventLogOptions) {
    this.#knex = options.knex
    this.#clock = options.clock
    this.#logger = options.logger
    this.#queue = options.queue
    this.#queue.defineBatch(DELIVERY_JOB, (jobs, signal) => this.#deliver(jobs, signal), {
      batchSize: DELIVERY_BATCH,
      lanes: true
    })
  }

  /** Writes the event in the caller's transaction; see the class comment for who hears of it and when. */
  async record<N extends EventName>(
    trx: Knex.Transaction,
    type: N,
    payload: KronusEvents[N],
    options: RecordOptions = {}
  ): Promise<void> {
    await this.recordMany(trx, type, [payload], options)
  }

  /**
   * record() for many events of one type, in multi-row inserts: a fan-out records one
   * probe.started per user. They are logged, delivered and heard in the given order.
   */
  async recordMany<N extends EventName>(
    trx: Knex.Transaction,
    type: N,
    payloads: Array<KronusEvents[N]>,
    options: RecordManyOptions = {}
  ): Promise<void> {
    // Checked even with nothing to record: a misspelt name fails where it is written.
    this.declare(type)
    const hidden = options.hiddenFromUser
    if (Array.isArray(hidden) && hidden.length !== payloads.length)
      throw new Error(`hiddenFromUser names ${hidden.length} flags for ${payloads.length} events`)
    await this.recordEach(
      trx,
      payloads.map((payload, i) => ({
        type,
        payload,
        hiddenFromUser: Array.isArray(hidden) ? hidden[i] === true : hidden === true
      })) as NewEvent[]
    )
  }

  /**
   * Events of any types that one change made, in the given order: one multi-row insert
   * (per few hundred), each durable subscriber's `wants` asked once for all of its types,
   * and its deliveries queued together. A reply and the status change it made cost one
   * insert, not one per type.
   */
  async recordEach(trx: Knex.Transaction, entries: readonly NewEvent[]): Promise<void> {
    for (const { type } of entries) this.declare(type)
    if (entries.length === 0) return
    const createdAt = this.#clock.now()
    const events: RecordedEvent[] = []
    for (const chunk of chunks(entries)) {
      const inserted: Array<{ id: number | string } | number | string> = await trx('events')
        .insert(
          chunk.map(({ type, payload, hiddenFromUser }) => ({
            type,
            user_id: userIdOf(payload),
            payload: JSON.stringify(payload),
            hidden_from_user: hiddenFromUser === true,
            created_at: createdAt
          }))
        )
        .returning('id')
      // One INSERT takes its ids in row order on both databases, though RETURNING need not list them in it.
      const ids = inserted.map((row) => Number(typeof row === 'object' ? row.id : row)).sort((x, y) => x - y)
      chunk.forEach(({ type, payload, hiddenFromUser }, i) =>
        events.push({
          id: ids[i]!,
          type,
          userId: userIdOf(payload),
          payload,
          hiddenFromUser: hiddenFromUser === true,
          createdAt
        })
      )
    }

    for (const [name, subscriber] of this.#subscribers) {
      const its = events.filter((event) => subscriber.types.has(event.type))
      if (its.length === 0) continue
      const wanted = subscriber.wants ? await this.#wanted(name, subscriber.wants, its, trx) : its
      if (wanted.length === 0) continue
      await this.#queue.enqueueMany(
        DELIVERY_JOB,
        wanted.map((event) => ({
          payload: { subscriber: name, eventId: event.id },
          options: {
            lane: eventDeliveryLane(name, event.userId),
            maxAttempts: subscriber.maxAttempts,
            priority: subscriber.priority
          }
        })),
        trx
      )
    }

    const emitted = afterCommit(trx).then(async (committed) => {
      if (!committed) return
      // emittery's emit() costs a few promises and copies per event even with nobody
      // listening, and a fan-out records hundreds of thousands of events that nobody does.
      for (const event of events) {
        if (this.#emitter.listenerCount(event.type) > 0) await this.#emitter.emit(event.type, event)
      }
    })
    this.#pending.add(emitted)
    void emitted.finally(() => this.#pending.delete(emitted))
  }

  /** For events that have no state change to commit with (server.started, job.dead, ...). */
  async emit<N extends EventName>(type: N, payload: KronusEvents[N], options: RecordOptions = {}): Promise<void> {
    await this.#knex.transaction((trx) => this.record(trx, type, payload, options))
  }

  /**
   * An in-memory listener: called after commit, in this process only, at most once per
   * event. A listener that throws is logged and harms nobody else. Returns an unsubscribe.
   */
  on<N extends EventName>(type: N, listener: EventListener<N>): () => void {
    this.declare(type)
    return this.#emitter.on(type, async (event) => {
      try {
        await listener(event.payload as KronusEvents[N], event as RecordedEvent<N>)
      } catch (err) {
        this.#logger.error({ err, event: type, eventId: event.id }, 'event listener failed')
      }
    })
  }

  /**
   * A durable subscriber: `handler` receives every event of these types recorded from now
   * on, at least once, in order per user, even across crashes and restarts. A handler
   * that throws is retried; the user's later events wait until it succeeds or gives up.
   * `subscriber` names the subscription and must stay the same across restarts.
   */
  subscribe<N extends EventName>(
    subscriber: string,
    type: N | N[],
    handler: DurableHandler<N>,
    options: SubscribeOptions<N> = {}
  ): void {
    // It becomes part of a queue lane name, which the jobs table stores in 255 characters.
    if (!/^[\w.:-]{1,160}$/.test(subscriber))
      throw new Error(
        `durable subscriber name "${subscriber}" must be 1 to 160 letters, digits, underscores, dots, dashes or colons`
      )
    if (this.#subscribers.has(subscriber)) throw new Error(`durable subscriber "${subscriber}" is already registered`)
    const types = [type].flat()
    for (const t of types) this.declare(t)
    if (options.wants !== undefined && typeof options.wants !== 'function')
      throw new Error(`wants of durable subscriber "${subscriber}" must be a function`)
    const priority = options.priority ?? 0
    if (!Number.isInteger(priority) || priority < 0)
      throw new Error(
        `priority of durable subscriber "${subscriber}" must be a whole number of 0 or more, got ${priority}`
      )
    this.#subscribers.set(subscriber, {
      types: new Set(types),
      handler,
      maxAttempts: options.maxAttempts,
      wants: options.wants,
      priority
    })
  }

  /** Logged events, oldest first. Filtering by one type narrows the payload type too. */
  async list<N extends EventName = EventName>(filter: EventFilter & { type?: N } = {}): Promise<RecordedEvent<N>[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), MAX_LIST_LIMIT)
    const rows: EventRow[] = await this.#filtered(filter).orderBy('id').limit(limit)
    return rows.map(toRecordedEvent) as RecordedEvent<N>[]
  }

  /** A page of events (100 a page, oldest first) with the total count, for the REST route. */
  async page(
    filter: Omit<EventFilter, 'limit'>,
    page: number,
    pageSize = 100
  ): Promise<{ results: RecordedEvent[]; total: number }> {
    const [{ n }] = (await this.#filtered(filter).count({ n: '*' })) as Array<{ n: number | string }>
    const rows: EventRow[] = await this.#filtered(filter)
      .orderBy('id')
      .offset((page - 1) * pageSize)
      .limit(pageSize)
    return { results: rows.map(toRecordedEvent), total: Number(n) }
  }

  /** Makes a plugin's event name known at run time (the REST route accepts only known names). */
  declare(type: string): void {
    if (!EVENT_NAME_PATTERN.test(type))
      throw new Error(`"${type}" is not a valid event name (lower-case dotted words, e.g. backup.completed)`)
    this.#types.add(type)
  }

  /** Every event name known to this process: Kronus's own and those of the loaded plugins. */
  types(): string[] {
    return [...this.#types].sort()
  }

  isKnownType(type: string): type is EventName {
    return this.#types.has(type)
  }

  /**
   * Resolves once every committed event so far has reached the in-memory listeners. Never
   * await it inside a transaction that recorded events: they wait for that very commit.
   */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending])
  }

  /** Whether a dead job was the delivery of a job.dead event. */
  async isDeliveryOfJobDead(job: Pick<JobRow, 'name' | 'payload'>): Promise<boolean> {
    if (job.name !== DELIVERY_JOB) return false
    const { eventId } = JSON.parse(job.payload) as { eventId: number }
    const row: Pick<EventRow, 'type'> | undefined = await this.#knex('events')
      .select('type')
      .where({ id: eventId })
      .first()
    return row?.type === 'job.dead'
  }

  /**
   * A subscriber's own filter, kept in a savepoint so that its failure cannot spoil the
   * change being recorded. Failing open costs a useless delivery; failing closed could
   * lose an alert.
   */
  async #wanted<N extends EventName>(
    name: string,
    wants: NonNullable<Subscriber['wants']>,
    events: Array<RecordedEvent<N>>,
    trx: Knex.Transaction
  ): Promise<Array<RecordedEvent<N>>> {
    try {
      const answers = await inSavepoint(trx, (savepoint) => wants(events, savepoint))
      if (!Array.isArray(answers) || answers.length !== events.length) {
        throw new Error(
          `answered ${Array.isArray(answers) ? answers.length : 'no'} answers for ${events.length} events`
        )
      }
      return events.filter((_, i) => answers[i] === true)
    } catch (err) {
      this.#logger.error({ err, subscriber: name }, "a durable subscriber's filter failed; every event goes to it")
      return events
    }
  }

  /**
   * A batch of deliveries, at most one per lane: their events read by one query, each
   * handed to its subscriber, a few at once, the subscriber with the fewest handlers
   * running first. Each answers for itself, so one failing subscriber is retried alone and
   * holds back only its own lane, and one whose handlers hang holds only the slots no other
   * subscriber's deliveries are waiting for. When the batch's time is up it answers at once:
   * a handler still running has timed out (as a single job's would), and a delivery not yet
   * begun goes back to the queue untried. It keeps its place in line, unless its subscriber
   * had a handler still running: then it goes behind the deliveries waiting, so that the
   * next batches are not that subscriber's backlog alone, every one held for the whole time.
   */
  async #deliver(
    jobs: Array<{ payload: { subscriber: string; eventId: number } }>,
    signal: AbortSignal
  ): Promise<unknown[]> {
    const rows: EventRow[] = []
    for (const ids of chunks([...new Set(jobs.map((job) => job.payload.eventId))]))
      rows.push(...(await this.#knex('events').whereIn('id', ids)))
    const events = new Map(rows.map((row) => [Number(row.id), row]))
    const outcomes: unknown[] = jobs.map(() => new JobNotRunError())
    const running = new Set<number>()
    const delivered = runFairly(
      jobs.map((job) => job.payload.subscriber),
      DELIVERIES_AT_ONCE,
      async (i) => {
        const { subscriber: name, eventId } = jobs[i]!.payload
        running.add(i)
        try {
          await this.#deliverOne(name, events.get(eventId), eventId)
          outcomes[i] = undefined
        } catch (error) {
          outcomes[i] = error
        } finally {
          running.delete(i)
        }
      },
      () => signal.aborted
    )
    const aborted = new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), { once: true })
    })
    await Promise.race([delivered, aborted])
    const hung = new Set([...running].map((i) => jobs[i]!.payload.subscriber))
    return outcomes.map((outcome, i) => {
      if (running.has(i)) return signal.reason
      if (outcome instanceof JobNotRunError && hung.has(jobs[i]!.payload.subscriber))
        return new JobNotRunError('its subscriber was still busy when the batch ended', { behindWaiting: true })
      return outcome
    })
  }

  async #deliverOne(subscriberName: string, row: EventRow | undefined, eventId: number): Promise<void> {
    const subscriber = this.#subscribers.get(subscriberName)
    if (!subscriber) {
      // Its plugin was removed from the configuration; nobody is left to deliver to.
      this.#logger.warn({ subscriber: subscriberName, eventId }, 'dropping event for an unknown durable subscriber')
      return
    }
    if (!row) {
      this.#logger.warn({ subscriber: subscriberName, eventId }, 'event to deliver no longer exists')
      return
    }
    await subscriber.handler(toRecordedEvent(row))
  }

  #filtered(filter: Omit<EventFilter, 'limit'>): Knex.QueryBuilder<EventRow> {
    const query = this.#knex<EventRow>('events')
    if (filter.type !== undefined) query.where('type', filter.type)
    if (filter.after !== undefined) query.where('id', '>', filter.after)
    if (filter.userId !== undefined) query.where('user_id', filter.userId)
    if (filter.visibleToUser) query.where('hidden_from_user', false)
    return query
  }
}

function userIdOf(payload: unknown): number | null {
  const userId = (payload as { userId?: unknown } | null)?.userId
  return typeof userId === 'number' ? userId : null
}
