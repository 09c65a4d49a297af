import type { Knex } from 'knex'
import { normalise } from './claim.js'
import type { JobRow } from './types.js'

const BATCH = 100

/**
 * Jobs whose worker died during their last allowed attempt: their lock expired and no
 * attempt is left, so the claim skips them. They end `dead` here instead of staying
 * in-progress forever. Returns the rows as they are now.
 */
export async function buryAbandonedJobs(knex: Knex, now: number): Promise<JobRow[]> {
  const rows: JobRow[] = await knex('jobs')
    .select('*')
    .where('status', 'in-progress')
    .where('lock_expires_at', '<=', now)
    .where('attempts', '>=', knex.ref('max_attempts'))
    // Retried until a time not yet reached: claimed again, not buried.
    .where((over) => over.whereNull('retry_until').orWhere('retry_until', '<=', now))
    .orderBy('id')
    .limit(BATCH)
  const buried: JobRow[] = []
  for (const row of rows) {
    const change = {
      status: 'dead' as const,
      live_key: null,
      last_error: `worker ${row.locked_by ?? '(unknown)'} stopped responding during attempt ${row.attempts} of ${row.max_attempts}`,
      locked_at: null,
      locked_by: null,
      lock_expires_at: null,
      finished_at: now,
      updated_at: now
    }
    const updated = await knex('jobs')
      .where({ id: row.id, attempts: row.attempts, status: 'in-progress' })
      .where('lock_expires_at', '<=', now)
      .where((over) => over.whereNull('retry_until').orWhere('retry_until', '<=', now))
      .update(change)
    if (updated === 1) buried.push(normalise({ ...row, ...change }))
  }
  return buried
}
