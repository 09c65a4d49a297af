import type { Knex } from 'knex'

/*
 * Three of the jobs indexes are read only for rows with a value in their column: a lane's
 * jobs (`lane = …`, nearly every job has none), a lock that lapsed (`lock_expires_at <= …`,
 * set only while a job runs) and old finished jobs to prune (`finished_at < …`). Each
 * read's comparison implies the column IS NOT NULL, so both databases use an index limited
 * to those rows, and a job's enqueue, claim and end stop writing entries nobody reads:
 * 7 of the 24 index entries a lane-less job wrote in its life.
 */
const PARTIAL = [
  { name: 'jobs_lane_id_index', columns: ['lane', 'id'], present: 'lane' },
  { name: 'jobs_status_lock_expires_at_index', columns: ['status', 'lock_expires_at'], present: 'lock_expires_at' },
  { name: 'jobs_finished_at_index', columns: ['finished_at'], present: 'finished_at' }
]

export async function up(knex: Knex): Promise<void> {
  for (const index of PARTIAL) {
    await knex.raw('DROP INDEX ??', [index.name])
    await knex.raw(`CREATE INDEX ?? ON ?? (${index.columns.map(() => '??').join(', ')}) WHERE ?? IS NOT NULL`, [
      index.name,
      'jobs',
      ...index.columns,
      index.present
    ])
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const index of PARTIAL) {
    await knex.raw('DROP INDEX ??', [index.name])
    await knex.raw(`CREATE INDEX ?? ON ?? (${index.columns.map(() => '??').join(', ')})`, [
      index.name,
      'jobs',
      ...index.columns
    ])
  }
}
