import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // What started a probe (a cron fire or an on-demand request). Unique, so a job that
  // runs twice (its worker died after committing) cannot ask the user twice.
  await knex.schema.alterTable('probes', (t) => {
    t.string('start_key', 160).nullable().unique()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probes', (t) => {
    t.dropUnique(['start_key'])
    t.dropColumn('start_key')
  })
}
