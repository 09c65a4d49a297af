import type { Server } from '@hapi/hapi'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import type { EventLog } from '../events/log.js'
import { CORE_EVENT_NAMES } from '../events/names.js'
import type { Messaging } from '../messaging/messaging.js'
import type { JobQueue } from '../queue/job-queue.js'
import type { Services } from '../services/index.js'
import type { PluginHealthStore } from '../services/plugin-health.js'
import { pluginContacts, pluginProbes, pluginUsers } from './core-facades.js'
import type { CronSchedules } from './cron-schedules.js'
import { scopedDatabase } from './database.js'
import type {
  PluginContext,
  PluginEvents,
  PluginHealth,
  PluginJobs,
  PluginMessaging,
  PluginSchedules,
  PluginServer
} from './types.js'

/** Everything Kronus lends its plugins. */
export interface PluginHostDeps {
  server: Server
  events: EventLog
  queue: JobQueue
  messaging: Messaging
  cronSchedules: CronSchedules
  services: Services
  config: KronusConfig
  logger: Logger
  clock: Clock
  knex: Knex
  /** Where plugins' reports of their own health are kept (kronus.health). */
  pluginHealth: PluginHealthStore
}

const CORE_EVENTS = new Set<string>(CORE_EVENT_NAMES)

function assertPluginEvent(plugin: string, type: string): void {
  if (CORE_EVENTS.has(type))
    throw new Error(`plugin "${plugin}" cannot emit "${type}": it is one of Kronus's own events`)
}

function pluginEvents(name: string, events: EventLog): PluginEvents {
  return {
    on: (type, listener) => events.on(type, listener),
    subscribe: (subscriber, type, handler, options) =>
      events.subscribe(`${name}:${subscriber}`, type, handler, options),
    emit: async (type, payload) => {
      assertPluginEvent(name, type)
      await events.emit(type, payload)
    },
    record: async (trx, type, payload) => {
      assertPluginEvent(name, type)
      await events.record(trx, type, payload)
    },
    list: (filter) => events.list(filter)
  }
}

function pluginJobs(queue: JobQueue): PluginJobs {
  return {
    define: (name, handler, options) => queue.define(name, handler, options),
    enqueue: (name, payload, options, trx) => queue.enqueue(name, payload, options, trx)
  }
}

function pluginSchedules(deps: PluginHostDeps): PluginSchedules {
  return {
    schedule: (name, cron, payload, options) =>
      deps.cronSchedules.schedule(name, cron, payload, options?.timeZone ?? deps.config.kronus.cron.timeZone)
  }
}

function pluginHealth(name: string, store: PluginHealthStore): PluginHealth {
  return {
    degraded: async (reason, trx) => {
      if (typeof reason !== 'string' || reason.trim() === '')
        throw new Error(`plugin "${name}": kronus.health.degraded needs a reason`)
      await store.degraded(name, reason.trim(), trx)
    },
    recovered: (trx) => store.recovered(name, trx)
  }
}

function pluginMessaging(messaging: Messaging): PluginMessaging {
  return {
    registerChannel: (channel, options) => messaging.registerChannel(channel, { default: options?.default }),
    send: (message, trx) => messaging.send(message, trx),
    receive: (message, trx) => messaging.receive(message, trx),
    receiveMany: (messages, trx) => messaging.receiveMany(messages, trx),
    onInbound: (handler, options) =>
      messaging.onInbound(handler, { replies: options?.replies, claims: options?.claims }),
    deliveryReport: (report, trx) => messaging.deliveryReport(report, trx),
    callAnswered: (answer, trx) => messaging.callAnswered(answer, trx)
  }
}

/**
 * Registers an empty hapi plugin whose routes carry the prefix, and hands out its
 * server: routes added through it land under `/plugins/<name>` and nowhere else.
 */
/** Whether `path` is one of the declared public paths or lies below one. */
export function isDeclaredPublicPath(path: string, publicPaths: readonly string[]): boolean {
  return publicPaths.some((declared) => path === declared || path.startsWith(`${declared}/`))
}

async function pluginServer(
  name: string,
  version: string,
  server: Server,
  publicPaths: readonly string[]
): Promise<PluginServer> {
  const prefix = `/plugins/${name}`
  let realm: Server | undefined
  await server.register(
    {
      plugin: {
        name: `kronus-plugin-${name}`,
        version,
        register: async (scoped: Server) => {
          realm = scoped
        }
      }
    },
    { routes: { prefix } }
  )
  const scoped = realm!
  return {
    prefix,
    route: (route) => scoped.route(route),
    routePublic: (route) => {
      for (const r of [route].flat()) {
        if (!isDeclaredPublicPath(r.path, publicPaths)) {
          throw new Error(`plugin "${name}" may not serve ${r.path}: declare it in publicPaths`)
        }
      }
      server.route(route)
    }
  }
}

/** What the host knows of the plugin a context is made for. */
export interface PluginIdentity {
  name: string
  version: string
  publicPaths?: readonly string[]
  tables?: readonly string[]
}

export async function createPluginContext(plugin: PluginIdentity, deps: PluginHostDeps): Promise<PluginContext> {
  const { name } = plugin
  const jobs = pluginJobs(deps.queue)
  const schedules = pluginSchedules(deps)
  return {
    name,
    probes: pluginProbes(deps),
    users: pluginUsers(deps),
    contacts: pluginContacts(deps),
    messaging: pluginMessaging(deps.messaging),
    events: pluginEvents(name, deps.events),
    jobs,
    schedules,
    health: pluginHealth(name, deps.pluginHealth),
    queue: { ...jobs, ...schedules },
    metrics: { counter: (spec) => deps.services.metrics.counter(spec) },
    server: await pluginServer(name, plugin.version, deps.server, plugin.publicPaths ?? []),
    db: scopedDatabase(name, plugin.tables ?? [], deps.knex),
    config: deps.config,
    logger: deps.logger.child({ plugin: name }),
    clock: deps.clock
  }
}
