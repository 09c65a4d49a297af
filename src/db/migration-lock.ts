import type { Knex } from 'knex'
import { isPostgres } from './knex.js'

/**
 * Runs `migrate` while holding a PostgreSQL advisory lock keyed by the current schema, so
 * instances that start together migrate one after the other: the later ones find the
 * schema up to date. knex's own migration lock would instead fail them with "Migration
 * table is already locked". The lock lives in a transaction on a connection of its own
 * and ends with it, even if this process dies. SQLCipher has a single writer already.
 */
export async function withMigrationLock(knex: Knex, migrate: () => Promise<void>): Promise<void> {
  if (!isPostgres(knex)) return migrate()
  await knex.transaction(async (trx) => {
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('kronus.migrations:' || coalesce(current_schema(), '')))`)
    await migrate()
  })
}
