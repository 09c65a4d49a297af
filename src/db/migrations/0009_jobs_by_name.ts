import type { Knex } from 'knex'

/*
 * Claims look for due jobs of given names. Read through (status, run_at) alone, a claim
 * for timers during a fan-out walked past every one of 100k due probe.fire and
 * message.send jobs, on every claim (bench/fanout.ts: 25 ms a claim). With the name first,
 * each claim reads only the names it can run, already in (run_at, id) order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.index(['name', 'status', 'run_at', 'id'], 'jobs_name_status_run_at_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['name', 'status', 'run_at', 'id'], 'jobs_name_status_run_at_index')
  })
}
