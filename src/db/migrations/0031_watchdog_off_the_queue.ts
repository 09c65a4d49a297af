import type { Knex } from 'knex'

/*
 * The watchdog was a job on the durable cron (`kronus.watchdog`, every minute); each
 * instance now checks on a timer of its own. Its cron row and any run still waiting go:
 * nothing defines the job any more, so a waiting run would be listed as late forever.
 */
const WATCHDOG_JOB = 'kronus.watchdog'

export async function up(knex: Knex): Promise<void> {
  await knex('jobs').where('name', WATCHDOG_JOB).whereIn('status', ['scheduled', 'enqueued']).delete()
  await knex('cron_schedules').where('name', WATCHDOG_JOB).delete()
}

/** An older Kronus puts its watchdog back on the cron when it starts. */
export async function down(): Promise<void> {}
