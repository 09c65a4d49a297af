import type { Knex } from 'knex'
import type { Logger } from 'pino'

/** What one insert into `jobs` tells the workers (migration 0021's trigger). */
export interface JobsInserted {
  /** The earliest run_at among the rows, epoch ms. */
  runAt: number
  /** The names of the rows. */
  names: string[]
  /** The highest priority among them. */
  priority: number
}

/** The channel of the jobs table of one schema, as the trigger names it. */
export function jobsChannel(schema: string): string {
  return `kronus_jobs:${schema}`
}

/** After a dropped connection: first retry after this long, doubling up to the maximum. */
const RECONNECT_FIRST_MS = 500
const RECONNECT_MAX_MS = 30_000

interface PgConnection {
  processID?: number
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown
  on(event: 'error' | 'end', listener: (err?: Error) => void): unknown
  removeAllListeners(): unknown
}

/**
 * PostgreSQL only: a connection of its own, outside knex's pool, that LISTENs on the
 * jobs table's channel, so that workers start a job as soon as the transaction that
 * enqueued it commits (the trigger's pg_notify fires on commit), on every instance,
 * instead of polling for it. When the connection drops it is opened again, after 0.5 s,
 * then 1 s, 2 s, ... at most 30 s apart; each time it is listening again `onListening`
 * runs, so the queue looks for what was enqueued while nobody listened. Notifications
 * can still be missed (a crash between commit and delivery): the queue keeps a slow poll.
 */
export class JobWakeListener {
  #connection: PgConnection | undefined
  #stopped = true
  #retryMs = RECONNECT_FIRST_MS
  #retryTimer: NodeJS.Timeout | undefined
  #connecting: Promise<void> | undefined

  constructor(
    private readonly knex: Knex,
    private readonly logger: Logger,
    private readonly onInserted: (inserted: JobsInserted) => void,
    private readonly onListening: () => void
  ) {}

  /** The listening connection's server process, while there is one (tests end it to try reconnection). */
  get backendPid(): number | undefined {
    return this.#connection?.processID
  }

  /** Resolves once listening (or once the first attempt failed: it is retried in the background). */
  start(): Promise<void> {
    if (!this.#stopped) return this.#connecting ?? Promise.resolve()
    this.#stopped = false
    return this.#connect()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retryTimer)
    await this.#connecting?.catch(() => undefined)
    const connection = this.#connection
    this.#connection = undefined
    if (connection) await this.#close(connection)
  }

  #connect(): Promise<void> {
    this.#connecting = this.#open().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #open(): Promise<void> {
    let connection: PgConnection | undefined
    try {
      connection = (await (this.knex.client as any).acquireRawConnection()) as PgConnection
      const { rows } = await connection.query('SELECT current_schema() AS schema')
      const channel = jobsChannel(String(rows[0]!.schema))
      connection.on('notification', (message) => {
        if (message.channel === channel) this.#notified(message.payload)
      })
      connection.on('error', (err) => this.#lost(connection!, err))
      connection.on('end', () => this.#lost(connection!))
      await connection.query(`LISTEN "${channel.replaceAll('"', '""')}"`)
      if (this.#stopped) {
        await this.#close(connection)
        return
      }
      this.#connection = connection
      this.#retryMs = RECONNECT_FIRST_MS
      this.onListening()
    } catch (err) {
      if (connection) await this.#close(connection)
      if (this.#stopped) return
      this.logger.warn({ err, retryInMs: this.#retryMs }, 'could not listen for new jobs; polling until it can')
      this.#retryLater()
    }
  }

  #notified(payload: string | undefined): void {
    try {
      const parsed = JSON.parse(payload ?? '') as { runAt: number | string; names: string[]; priority: number | string }
      this.onInserted({ runAt: Number(parsed.runAt), names: parsed.names ?? [], priority: Number(parsed.priority) })
    } catch (err) {
      this.logger.warn({ err, payload }, 'unreadable notification of new jobs')
    }
  }

  #lost(connection: PgConnection, err?: Error): void {
    if (this.#connection !== connection) return
    this.#connection = undefined
    connection.removeAllListeners()
    // A connection ended under it emits 'error' on the next use: keep a listener so it is not thrown.
    connection.on('error', () => undefined)
    if (this.#stopped) return
    this.logger.warn({ err, retryInMs: this.#retryMs }, 'lost the connection listening for new jobs; reconnecting')
    this.#retryLater()
  }

  #retryLater(): void {
    clearTimeout(this.#retryTimer)
    this.#retryTimer = setTimeout(() => {
      if (!this.#stopped) this.#connect().catch(() => undefined)
    }, this.#retryMs)
    this.#retryTimer.unref()
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS)
  }

  async #close(connection: PgConnection): Promise<void> {
    connection.removeAllListeners()
    connection.on('error', () => undefined)
    try {
      await (this.knex.client as any).destroyRawConnection(connection)
    } catch {
      // Already gone.
    }
  }
}
