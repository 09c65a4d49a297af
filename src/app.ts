import type { Server } from '@hapi/hapi'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { systemClock, type Clock } from './clock.js'
import type { KronusConfig } from './config/types.js'
import { assertSqlcipherKey, createKnex } from './db/knex.js'
import { migrateLatest } from './db/migrations/index.js'
import { createHttpServer } from './http/server.js'
import { createLogger } from './logger.js'
import { createServices, type Services } from './services/index.js'
import { VERSION } from './version.js'

export interface KronusOptions {
  config: KronusConfig
  clock?: Clock
  logger?: Logger
  /** An existing knex instance (tests share one per PostgreSQL schema). */
  knex?: Knex
  /** PostgreSQL schema to work in. */
  searchPath?: string
}

/** One running Kronus: database, services and HTTP server, wired together. */
export interface Kronus {
  config: KronusConfig
  clock: Clock
  logger: Logger
  knex: Knex
  services: Services
  server: Server
  /** Starts listening. */
  start(): Promise<void>
  /** Stops listening and closes the database. */
  stop(): Promise<void>
}

export async function createKronus(options: KronusOptions): Promise<Kronus> {
  const { config } = options
  const clock = options.clock ?? systemClock
  const logger = options.logger ?? createLogger(config)

  if (!options.knex && config.database.client === 'sqlcipher') {
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
    await migrateLatest(knex)
  } catch (err) {
    await knex.destroy()
    throw err
  }

  const services = createServices({ knex, clock, config, logger })
  const server = await createHttpServer({ config, services, clock, logger, version: VERSION })

  let stopped = false
  return {
    config,
    clock,
    logger,
    knex,
    services,
    server,
    async start() {
      await server.start()
      logger.info({ uri: server.info.uri }, 'kronus listening')
    },
    async stop() {
      if (stopped) return
      stopped = true
      await server.stop({ timeout: 10_000 })
      if (!options.knex) await knex.destroy()
    }
  }
}
