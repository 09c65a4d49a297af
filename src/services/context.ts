import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import type { EventLog } from '../events/log.js'

/** What every service is built from. */
export interface ServiceContext {
  knex: Knex
  clock: Clock
  config: KronusConfig
  logger: Logger
  /** Services record their events in the transaction of the change they describe. */
  events: EventLog
}

/** The caller of a service, as established by authentication. */
export interface Actor {
  userId: number
  isAdmin: boolean
}

/** Runs `fn` in the given transaction, or in a new one when none is given. */
export function inTransaction<T>(
  knex: Knex,
  trx: Knex.Transaction | undefined,
  fn: (trx: Knex.Transaction) => Promise<T>
): Promise<T> {
  return trx ? fn(trx) : knex.transaction(fn)
}
