import type { Knex } from 'knex'

/*
 * Claims take higher priority first (alarms' texts and calls, jobs.priority from 0013),
 * then the job's place in line, then id. `fair_at` is that place: run_at for most jobs,
 * pushed back for a user who already has many jobs of the same name and priority waiting
 * (see `fairAcrossUsers` in src/queue/types.ts), so one user's 500 texts cannot hold back
 * another user's one. `retry_until`: a job that keeps being retried after a failure until
 * this time (epoch ms), however many attempts that takes (alarms' texts: 30 minutes).
 *
 * The index serves every claim in that order, as 0009's served (run_at, id): a claim reads
 * along it and stops after the rows it takes, however many other jobs are due. Priority
 * is descending in the index so that ORDER BY priority DESC, fair_at, id is one forward
 * read on SQLite and PostgreSQL alike.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('fair_at').nullable()
    t.bigInteger('retry_until').nullable()
  })
  await knex('jobs').update({ fair_at: knex.ref('run_at') })
  await knex.raw('CREATE INDEX ?? ON ?? (??, ??, ?? DESC, ??, ??)', [
    'jobs_claim_order_index',
    'jobs',
    'name',
    'status',
    'priority',
    'fair_at',
    'id'
  ])
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX ??', ['jobs_claim_order_index'])
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('retry_until')
    t.dropColumn('fair_at')
  })
}
