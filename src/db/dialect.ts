import type { Knex } from 'knex'

/**
 * True when `knex` talks to PostgreSQL, false for SQLCipher. On its own, without knex.ts,
 * so `kronus` (which exports it to plugins) does not load the database drivers to say so.
 */
export function isPostgres(knex: Knex): boolean {
  // The dialect, not config.client: Kronus opens PostgreSQL with a subclass of knex's pg client (db/knex.ts).
  return knex.client.dialect === 'postgresql'
}
