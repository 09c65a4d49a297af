import type { Knex } from 'knex'

/*
 * GET /metrics counts the check-ins started in the last 24 hours by status at every
 * scrape. probes keeps every check-in ever made (100k users checking in daily add 36M
 * rows a year), so that count must read a range of an index, not the table: on
 * (created_at, probe_status_id) it reads the day's entries only, and never the rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probes', (t) => {
    t.index(['probe_status_id', 'created_at'], 'probes_status_created_at_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probes', (t) => {
    t.dropIndex(['probe_status_id', 'created_at'], 'probes_status_created_at_index')
  })
}
