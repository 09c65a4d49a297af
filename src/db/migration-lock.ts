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
    const { rows } = await trx.raw(`SELECT current_schema() AS schema, current_setting('search_path') AS search_path`)
    const { schema, search_path: searchPath } = rows[0] as { schema: string | null; search_path: string }
    if (schema === null) {
      // PostgreSQL would only say "no schema has been selected to create in" at the first CREATE TABLE.
      throw new Error(
        `no schema of the search_path "${searchPath}" exists in the PostgreSQL database: create it (CREATE SCHEMA ...) or fix database.connection`
      )
    }
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`kronus.migrations:${schema}`])
    await migrate()
  })
}
