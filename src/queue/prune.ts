import type { Knex } from 'knex'

const BATCH = 500

/**
 * Deletes successful jobs that finished before `cutoff`, in small batches so a large
 * backlog never holds SQLite's single writer for long. Dead jobs are kept for the admin.
 */
export async function pruneSuccessfulJobs(knex: Knex, cutoff: number): Promise<number> {
  let total = 0
  for (;;) {
    const ids = knex('jobs').select('id').where('status', 'successful').where('finished_at', '<', cutoff).limit(BATCH)
    const deleted = await knex('jobs').whereIn('id', ids).delete()
    total += deleted
    if (deleted < BATCH) return total
  }
}
