import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Server } from '@hapi/hapi'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { duressReplyRecord } from './alarms/duress.js'
import { AlarmEngine } from './alarms/engine.js'
import { alarmInboundHandler } from './alarms/inbound.js'
import { type Clock, systemClock } from './clock.js'
import type { KronusConfig } from './config/types.js'
import { assertSqlcipherKey, createKnex, prepareSqlcipherFiles, sqlcipherFiles } from './db/knex.js'
import { migrateLatest } from './db/migrations/index.js'
import { reportDeadJobs } from './events/dead-jobs.js'
import { EventLog } from './events/log.js'
import { createHttpServer } from './http/server.js'
import { createLogger } from './logger.js'
import { ConsoleChannel } from './messaging/console-channel.js'
import { Messaging } from './messaging/messaging.js'
import { runBeforeDatabaseOpen } from './plugins/before-database-open.js'
import { CronSchedules } from './plugins/cron-schedules.js'
import { asKronusPlugin } from './plugins/entry.js'
import { PluginHost } from './plugins/host.js'
import { migratePlugins } from './plugins/migrate.js'
import { ProbeLifecycle } from './probes/lifecycle.js'
import { OnDemandProbes } from './probes/on-demand.js'
import { ProbePauses } from './probes/pause.js'
import { JobQueue } from './queue/job-queue.js'
import { logSchedulesBelowMinInterval } from './scheduling/min-interval-check.js'
import { ProbeScheduler } from './scheduling/probe-scheduler.js'
import { FirstAdminReminder } from './services/first-admin-reminder.js'
import { HEARTBEAT_JOB, Heartbeat, heartbeatCron } from './services/heartbeat.js'
import { createServices, type Services } from './services/index.js'
import { PluginHealthStore } from './services/plugin-health.js'
import { Watchdog } from './services/watchdog.js'
import { VERSION } from './version.js'

export interface KronusOptions {
  config: KronusConfig
  clock?: Clock
  logger?: Logger
  /** An existing knex instance (tests share one per PostgreSQL schema). */
  knex?: Knex
  /** PostgreSQL schema to work in. */
  searchPath?: string
  /** Serve the API reference (/documentation, /swagger.json); on unless a test turns it off. */
  documentation?: boolean
}

/** One running Kronus: database, services and HTTP server, wired together. */
export interface Kronus {
  config: KronusConfig
  clock: Clock
  logger: Logger
  knex: Knex
  services: Services
  server: Server
  /** The durable job queue; handlers are defined on it by name. */
  queue: JobQueue
  /** Turns due probe schedules into probe.fire jobs. */
  scheduler: ProbeScheduler
  /** The typed event log: record, listen, subscribe durably. */
  events: EventLog
  /** Messaging channels and the durable way every text is sent. */
  messaging: Messaging
  /** The probe state machine: starts probes, follows up, takes replies (handleReply), cancels. */
  probes: ProbeLifecycle
  /** The alarm engine: raises alarms, escalates them to the emergency contacts, takes their answers. */
  alarms: AlarmEngine
  /** Cron jobs scheduled by plugins. */
  cronSchedules: CronSchedules
  /** The configured plugins, registered in order. */
  plugins: PluginHost
  /** What keeps Kronus from doing its work, announced once per start and end (each instance checks every minute). */
  watchdog: Watchdog
  /** Starts listening. */
  start(): Promise<void>
  /** Stops listening and closes the database. */
  stop(reason?: string): Promise<void>
}

/**
 * The SQLCipher files of the configured database that do not exist yet: those a start would
 * create, and a start that fails removes (`kronus server`), so it leaves no empty database behind.
 */
export function missingDatabaseFiles(config: KronusConfig): string[] {
  if (config.database.client !== 'sqlcipher') return []
  return sqlcipherFiles(config.database.filename).filter((file) => !existsSync(file))
}

/**
 * Says where the SQLCipher file is, so nobody has to guess which folder a server started
 * from holds everyone's data, and warns when others can reach into that folder.
 */
function logDatabaseFile(config: KronusConfig, logger: Logger): void {
  const { filename } = config.database
  const { directory, openToOthers } = prepareSqlcipherFiles(filename)
  const isDefault = filename === join(config.dataDir, 'kronus.db')
  logger.info(
    { database: filename },
    isDefault && !config.dev
      ? `database ${filename} (the default: kronus.db in the folder Kronus started in; set database.filename to move it)`
      : `database ${filename}`
  )
  if (openToOthers) {
    logger.warn(
      { directory },
      `${directory} is open to other users of this machine; Kronus's files in it are 0600, but make it 0700 (chmod 700)`
    )
  }
}

export async function createKronus(options: KronusOptions): Promise<Kronus> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger(config)

  // Before anything opens (and so creates) the database: a plugin may restore it first.
  if (!options.knex) await runBeforeDatabaseOpen(config.plugins, { config, logger, clock })
  if (!options.knex && config.database.client === 'sqlcipher') {
    logDatabaseFile(config, logger)
    await assertSqlcipherKey(config.database.filename, config.kronus.sqlite.passPhrase)
  }
  const knex =
    options.knex ??
    createKnex({
      client: config.database.client,
      filename: config.database.filename,
      passPhrase: config.kronus.sqlite.passPhrase,
      connection: config.database.connection,
      searchPath: options.searchPath
    })
  try {
    // The configured plugins' own tables come right after the core's, which they may refer to.
    await migrateLatest(knex, (knex) => migratePlugins(knex, config.plugins.map(asKronusPlugin)))
  } catch (err) {
    await knex.destroy()
    throw err
  }

  const queue = new JobQueue({
    knex,
    clock,
    logger,
    concurrency: config.jobs.concurrency,
    pollIntervalMs: config.jobs.pollIntervalMs,
    listenForJobs: config.jobs.listen,
    safetyPollIntervalMs: config.jobs.safetyPollIntervalMs,
    pruneSuccessfulAfterMs: config.jobs.pruneSuccessfulAfterHours * 3600_000,
    shutdownTimeoutMs: config.jobs.shutdownTimeoutMs,
    defaultTimeoutMs: config.jobs.defaultTimeoutMs,
    lockMarginMs: config.jobs.lockMarginMs
  })
  const events = new EventLog({ knex, clock, logger, queue })
  const messaging = new Messaging({
    knex,
    clock,
    events,
    limits: {
      textsPerUserPerDay: config.limits.textsPerUserPerDay,
      textsPerServerPerDay: config.limits.textsPerServerPerDay
    },
    queue,
    logger,
    emergencyRetryMs: config.alarms.alertRetryMinutes * 60_000
  })
  // Dev mode prints texts instead of sending them, whatever SMS plugin is configured.
  if (config.dev) messaging.registerChannel(new ConsoleChannel(), { default: true, lock: true })
  // Dead jobs are reported through messaging and the event log, which both run on the queue.
  queue.onDead(reportDeadJobs(events, messaging, logger))
  const alarms = new AlarmEngine({
    knex,
    clock,
    logger,
    queue,
    events,
    messaging,
    defaultTimeZone: config.kronus.cron.timeZone
  })
  alarms.register()
  const probes = new ProbeLifecycle({
    knex,
    clock,
    logger,
    queue,
    events,
    messaging,
    alarms,
    defaultTimeZone: config.kronus.cron.timeZone
  })
  probes.registerJobs()
  const pauses = new ProbePauses({
    knex,
    clock,
    logger,
    queue,
    events,
    messaging,
    lifecycle: probes,
    defaultTimeZone: config.kronus.cron.timeZone
  })
  pauses.registerJobs()
  // A text no plugin claimed (as a command, a keyword...) is the user's answer to their probe.
  messaging.onUnansweredInbound(async (texts, trx) =>
    (await probes.handleReplies(texts, trx)).map((result) => result.answer)
  )
  const onDemand = new OnDemandProbes({ knex, clock, config, queue, lifecycle: probes, texts: messaging })
  const pluginHealth = new PluginHealthStore(knex, clock)
  const watchdog = new Watchdog({
    knex,
    clock,
    logger,
    events,
    messaging,
    queue,
    plugins: pluginHealth,
    pluginNames: () => config.plugins.map((plugin) => plugin.name)
  })
  const heartbeat = config.kronus.heartbeat
    ? new Heartbeat({ url: config.kronus.heartbeat.url, logger, queue, conditions: () => watchdog.conditions() })
    : null
  heartbeat?.registerJobs()
  const services = createServices(
    { knex, clock, config, logger, events },
    { lifecycle: probes, pauses, onDemand, alarms },
    messaging,
    watchdog
  )
  // Every inbound text, from users and from their emergency contacts, meets the alarm
  // engine first: alarm codes, distress while a check-in waits, panic words, all-clears,
  // and a new emergency contact's YES <code>.
  messaging.onAnyInbound(alarmInboundHandler(alarms, probes, services.contactConsent))
  // A duress word is kept nowhere, not even as the text received: it is recorded as a Y.
  messaging.recordInboundAs(duressReplyRecord)
  const scheduler = new ProbeScheduler({
    knex,
    clock,
    logger,
    queue,
    defaultTimeZone: config.kronus.cron.timeZone,
    missedFireGraceMinutes: config.probes.missedFireGraceMinutes,
    intervalMs: config.jobs.schedulerIntervalMs
  })
  const firstAdminReminder = new FirstAdminReminder(services.users, logger)
  const server = await createHttpServer({
    config,
    services,
    clock,
    logger,
    version: VERSION,
    documentation: options.documentation
  })
  const cronSchedules = new CronSchedules({ knex, clock, logger, queue })
  const plugins = new PluginHost({
    server,
    events,
    queue,
    messaging,
    cronSchedules,
    services,
    config,
    logger,
    clock,
    knex,
    pluginHealth
  })
  try {
    // On the durable cron, like plugins' jobs: once per interval between all instances.
    if (config.kronus.heartbeat)
      await cronSchedules.schedule(HEARTBEAT_JOB, heartbeatCron(config.kronus.heartbeat.intervalSeconds), {}, 'UTC')
    await plugins.register(config.plugins)
  } catch (err) {
    if (!options.knex) await knex.destroy()
    throw err
  }

  let started = false
  let stopped = false
  return {
    config,
    clock,
    logger,
    knex,
    services,
    server,
    queue,
    scheduler,
    events,
    messaging,
    probes,
    alarms,
    cronSchedules,
    plugins,
    watchdog,
    async start() {
      started = true
      // Plugins first: their channels and handlers must be ready before jobs and requests arrive.
      await plugins.start()
      // Dev mode always has its console channel; a real server without one cannot text anyone.
      watchdog.warnIfNoChannel()
      await server.start().catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EADDRINUSE') throw err
        const { port } = config.kronus.listener
        throw new Error(`port ${port} is in use: set KRONUS_PORT or kronus.listener.port`)
      })
      queue.start()
      await logSchedulesBelowMinInterval(knex, logger, config.limits.minCheckInIntervalMinutes)
      scheduler.start()
      cronSchedules.start()
      watchdog.start()
      logger.info({ uri: server.info.uri }, 'kronus listening')
      // In dev mode the server listens on loopback only, so nobody else can be first.
      if (!config.dev) await firstAdminReminder.start()
      await events.emit('server.started', { uri: server.info.uri })
    },
    async stop(reason = 'stop requested') {
      if (stopped) return
      stopped = true
      firstAdminReminder.stop()
      await watchdog.stop()
      if (started) {
        await events
          .emit('server.stopping', { reason })
          .catch((err) => logger.error({ err }, 'could not record server.stopping'))
      }
      await server.stop({ timeout: 10_000 })
      // Before the database closes: running jobs finish or go back to the queue.
      await cronSchedules.stop()
      await scheduler.stop()
      await queue.stop()
      await events.settled()
      await plugins.stop()
      if (!options.knex) await knex.destroy()
    }
  }
}
