import type { ServerRoute } from '@hapi/hapi'
import type { Command } from 'commander'
import type Joi from 'joi'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import type { DurableHandler, EventFilter, EventListener, SubscribeOptions } from '../events/log.js'
import type { CORE_EVENT_NAMES } from '../events/names.js'
import type { EventName, KronusEvents, RecordedEvent } from '../events/types.js'
import type { CallAnswer } from '../messaging/calls.js'
import type { MessagingChannel } from '../messaging/channel.js'
import type {
  DeliveryReport,
  InboundHandler,
  InboundResult,
  IncomingMessage,
  OutgoingMessage
} from '../messaging/messaging.js'
import type { EnqueueOptions, JobDefinitionOptions, JobHandler, JobName, KronusJobs } from '../queue/types.js'
import type { MetricCounter, MetricCounterSpec } from '../services/metrics.js'
import type { PluginDatabase } from './database.js'
import type { PluginContacts, PluginProbes, PluginUsers } from './facades.js'

/** Kronus's own events; plugins may listen to them but not emit them. */
export type CoreEventName = (typeof CORE_EVENT_NAMES)[number]
/** Events that plugins declared (by declaration merging) and may emit. */
export type PluginEventName = Exclude<EventName, CoreEventName>

export interface PluginEvents {
  /** In-memory listener, called after the change commits; returns an unsubscribe. */
  on<N extends EventName>(type: N, listener: EventListener<N>): () => void
  /**
   * Durable subscriber: every event, at least once, in order per user, across restarts.
   * `subscriber` must be unique within the plugin and stable across versions; the plugin's
   * name is put in front of it.
   */
  subscribe<N extends EventName>(
    subscriber: string,
    type: N | N[],
    handler: DurableHandler<N>,
    options?: SubscribeOptions<N>
  ): void
  /** Records one of the plugin's own events in its own transaction. */
  emit<N extends PluginEventName>(type: N, payload: KronusEvents[N]): Promise<void>
  /** Records one of the plugin's own events in the caller's transaction. */
  record<N extends PluginEventName>(trx: Knex.Transaction, type: N, payload: KronusEvents[N]): Promise<void>
  /** Logged events, oldest first. */
  list<N extends EventName = EventName>(filter?: EventFilter & { type?: N }): Promise<RecordedEvent<N>[]>
}

export interface ScheduleOptions {
  /** IANA zone of the cron expression. Default: kronus.cron.timeZone. */
  timeZone?: string
}

export interface PluginJobs {
  /** Defines a job type. Name it `<plugin name>.<job>` and declare its payload in KronusJobs. */
  define<N extends JobName>(name: N, handler: JobHandler<KronusJobs[N]>, options?: JobDefinitionOptions): void
  enqueue<N extends JobName>(
    name: N,
    payload: KronusJobs[N],
    options?: EnqueueOptions,
    trx?: Knex.Transaction
  ): Promise<unknown>
}

export interface PluginSchedules {
  /**
   * Runs job `name` with `payload` on a 5-field cron. The schedule lives in the database:
   * each fire is enqueued once however many Kronus processes run, and a fire missed while
   * Kronus was down is made up once (never a burst) when it comes back.
   */
  schedule<N extends JobName>(name: N, cron: string, payload: KronusJobs[N], options?: ScheduleOptions): Promise<void>
}

/**
 * How a plugin reports its own trouble to the watchdog: while it is degraded, /health says
 * `degraded` with its reason, the heartbeat pings `/fail`, and the watchdog announces it
 * (an error in the log, a kronus.degraded event, a text to each admin) once when it starts
 * and once when it ends. Stored in the database by plugin name, so every instance sees it
 * and it outlives a restart: a plugin that says `degraded` must say `recovered` once the
 * thing works again (gcs-backup: a failed backup, then one that succeeds).
 */
export interface PluginHealth {
  /** The plugin is degraded, for `reason` (words for the operator); said again, the reason is updated. */
  degraded(reason: string, trx?: Knex.Transaction): Promise<void>
  /** The plugin works again; a no-op when it was not degraded. */
  recovered(trx?: Knex.Transaction): Promise<void>
}

/** @deprecated The jobs and schedules facades in one, as plugins written before them use it. */
export type PluginQueue = PluginJobs & PluginSchedules

export interface PluginMessaging {
  registerChannel(channel: MessagingChannel, options?: { default?: boolean }): void
  /**
   * Queues a text (see OutgoingMessage): resolves to true when queued, false when it was
   * `refusable` and the user's or the server's text allowance for 24 hours is spent.
   */
  send(message: OutgoingMessage, trx?: Knex.Transaction): Promise<boolean>
  /**
   * An inbound text (from a webhook): records message.received and returns the reply of the
   * first inbound handler that answers, in the caller's transaction when given.
   */
  receive(message: IncomingMessage, trx?: Knex.Transaction): Promise<InboundResult>
  /**
   * Inbound texts that arrived together, in one transaction: each handled as `receive`
   * would, in order, with fewer statements (a webhook that gathers concurrent requests).
   */
  receiveMany(messages: IncomingMessage[], trx?: Knex.Transaction): Promise<InboundResult[]>
  /**
   * Answers inbound texts from known users: return the reply, or null to pass the text on.
   * Handlers are asked in plugin order; a text nobody claims is a reply to the user's probe.
   * `replies: 'refusable'` (commands' replies) makes the handler's replies wait for the
   * user's text allowance: over it, the handler's work is rolled back and nothing is sent.
   * `claims(text)`, a test of the words alone (a command parser), lets every other text
   * pass the handler by without a call, and without the allowance's read.
   */
  onInbound(
    handler: InboundHandler,
    options?: { replies?: 'counted' | 'refusable'; claims?(text: string): boolean }
  ): () => void
  /** A delivery receipt from the channel's provider: message.delivered or message.undelivered. */
  deliveryReport(report: DeliveryReport, trx?: Knex.Transaction): Promise<void>
  /** Keys pressed during a call placed by Kronus: records call.answered and returns what to say back. */
  callAnswered(answer: CallAnswer, trx?: Knex.Transaction): Promise<string | null>
}

/** The plugin's own numbers on GET /metrics (README: Metrics). */
export interface PluginMetrics {
  /**
   * A counter of this Kronus, counted per instance: `kronus_<what>_total`, with a HELP text
   * and the names of its labels (keep their values few: never a user, a phone or a URL).
   * Call it once, in `register`: a name already taken throws at boot.
   */
  counter<Label extends string>(spec: MetricCounterSpec<Label>): MetricCounter<Label>
}

/** The hapi server, seen through the plugin's own route prefix `/plugins/<name>`. */
export interface PluginServer {
  /** `/plugins/<name>`: every route path is relative to it. */
  readonly prefix: string
  /** Adds routes under the prefix. Routes need a token unless they say `auth: false`. */
  route(route: ServerRoute | ServerRoute[]): void
  /**
   * Adds routes at absolute paths the plugin declared in `publicPaths` (for contracts
   * fixed elsewhere, such as Twilio's `/webhook/sms`). Any other path throws at boot.
   */
  routePublic(route: ServerRoute | ServerRoute[]): void
}

/**
 * What a plugin's register function receives: named facades over Kronus, never its models,
 * services or database handle. Methods that write take an optional trailing transaction,
 * from `db.transaction`, so a plugin's rows, events and jobs commit together. The HTTP
 * helpers (access checks, envelope, paging) are imported from `kronus`.
 */
export interface PluginContext {
  readonly name: string
  readonly probes: PluginProbes
  readonly users: PluginUsers
  readonly contacts: PluginContacts
  readonly messaging: PluginMessaging
  readonly events: PluginEvents
  readonly jobs: PluginJobs
  readonly schedules: PluginSchedules
  /** The plugin's own health, as the watchdog, /health and the heartbeat see it. */
  readonly health: PluginHealth
  /** @deprecated Use `jobs` and `schedules`. */
  readonly queue: PluginQueue
  /** Counters of the plugin's own on GET /metrics. */
  readonly metrics: PluginMetrics
  /** Routes, under the plugin's prefix or at its declared public paths. */
  readonly server: PluginServer
  /** The plugin's own tables (those it declares in `tables`) and transactions. */
  readonly db: PluginDatabase
  readonly config: KronusConfig
  /** A child logger that tags every line with the plugin's name. */
  readonly logger: Logger
  readonly clock: Clock
}

/**
 * What a plugin's `beforeDatabaseOpen` hook receives. Nothing else exists yet: no database,
 * events, queue or server, only the configuration, a logger and the clock.
 */
export interface PreOpenContext {
  readonly name: string
  readonly config: KronusConfig
  /** A child logger that tags every line with the plugin's name. */
  readonly logger: Logger
  readonly clock: Clock
}

/**
 * Runs before Kronus opens its database (when it opens it itself), in plugin order, e.g. to
 * put a database file in place. Throwing stops start-up with an error naming the plugin.
 */
export type BeforeDatabaseOpen<Options> = (kronus: PreOpenContext, options: Options) => void | Promise<void>

/**
 * One step of a plugin's own tables. The host runs a plugin's migrations in order, right
 * after the core's, each in its own transaction (`knex` is that transaction), and records
 * it as `(plugin name, migration name)` so it runs once per database. Never edit or remove
 * one that has shipped: add the next.
 */
export interface PluginMigration {
  /** Unique within the plugin and stable across versions, e.g. '0001_webhook_tables'. */
  name: string
  up(knex: Knex): Promise<void>
  /** Undoes `up`, for a plugin being removed from a database for good. */
  down(knex: Knex): Promise<void>
}

/** What the command line lends a plugin's commands. */
export interface PluginCommandContext {
  /**
   * The configuration as `kronus server --config <file>` would load it; with `dev: true`, as
   * `kronus server --dev` started in the current folder would (its secrets in ./dev, made if missing).
   */
  loadConfig(file?: string, options?: { dev?: boolean }): Promise<KronusConfig>
  /**
   * Opens the configured database without migrating it: the SQLCipher passphrase is checked
   * first, so a wrong one fails here instead of at the first query. Destroy it when done.
   */
  openDatabase(config: KronusConfig): Promise<Knex>
  readonly clock: Clock
  /** Results. */
  readonly stdout: CommandOutput
  /** Progress and warnings. */
  readonly stderr: CommandOutput
}

/** Where a command writes: process.stdout or process.stderr; `isTTY` says whether a progress line may redraw. */
export interface CommandOutput {
  write(text: string): unknown
  readonly isTTY?: boolean
}

/**
 * Adds the plugin's subcommands to the `kronus` program (commander). Called for the
 * built-in plugins when the command line starts, before any configuration is loaded: load
 * it in the command's action with `cli.loadConfig`, and import heavy modules there too, so
 * `kronus --version` and completion stay quick.
 */
export type PluginCommands = (program: Command, cli: PluginCommandContext) => void

/** What register may return: called when Kronus starts (in plugin order) and stops (in reverse). */
export interface PluginLifecycle {
  start?(): void | Promise<void>
  stop?(): void | Promise<void>
}

export type PluginRegister<Options> = (
  kronus: PluginContext,
  options: Options
) => void | PluginLifecycle | Promise<void | PluginLifecycle>

/** A plugin as it appears in the configuration's `plugins` list: what a definePlugin factory returns. */
export interface KronusPlugin<Options = unknown> {
  name: string
  version: string
  /** The options after validation, defaults filled in. */
  options: Options
  /** Names of the events the plugin emits, so the events route accepts them as filters. */
  events: readonly string[]
  /** Absolute route paths the plugin owns outside its prefix (see PluginDefinition.publicPaths). */
  publicPaths: readonly string[]
  /** The tables the plugin owns (see PluginDefinition.tables). */
  tables: readonly string[]
  register: PluginRegister<Options>
  /** See PluginDefinition.beforeDatabaseOpen. */
  beforeDatabaseOpen?: BeforeDatabaseOpen<Options>
  /** See PluginDefinition.migrations. */
  migrations?: readonly PluginMigration[]
}

/** What definePlugin returns: the factory users call in kronus.config.ts. */
export type PluginFactory<Options> = ((...args: PluginFactoryArgs<Options>) => KronusPlugin<Options>) & {
  /** See PluginDefinition.commands. */
  readonly commands?: PluginCommands
}

/** Optional when every option may be left out, required otherwise. */
export type PluginFactoryArgs<Options> = {} extends Options ? [options?: Options] : [options: Options]

export interface PluginDefinition<Options> {
  /** Lower-case letters, digits and dashes; it names the plugin in logs and its route prefix. */
  name: string
  version: string
  /** Joi schema of the options; they are validated when the plugin is configured. */
  options?: Joi.Schema<Options>
  /** Names of the events the plugin emits (declare their payloads in KronusEvents too). */
  events?: readonly string[]
  /**
   * Absolute paths the plugin may serve outside `/plugins/<name>`, each a path or a path
   * prefix (`/v1/users/{uid}/webhooks` covers `/v1/users/{uid}/webhooks/{id}`). Declared up
   * front so a reader of the plugin list sees every public URL; two plugins may not share one.
   */
  publicPaths?: readonly string[]
  /**
   * The tables the plugin owns: those its migrations create. `kronus.db.table()` reaches
   * these and no other, so Kronus's own records are read and changed through the facades.
   */
  tables?: readonly string[]
  register: PluginRegister<Options>
  /**
   * Runs before Kronus opens its database, before any plugin registers, e.g. to restore a
   * missing database file from a backup. Throwing stops start-up with an error naming the plugin.
   */
  beforeDatabaseOpen?: BeforeDatabaseOpen<Options>
  /**
   * The plugin's own tables, oldest first. They are created when the plugin is configured
   * (a database that enables the plugin later gets them then), and kept when it no longer is.
   */
  migrations?: readonly PluginMigration[]
  /** The plugin's own `kronus` subcommands (built-in plugins only; see PluginCommands). */
  commands?: PluginCommands
}
