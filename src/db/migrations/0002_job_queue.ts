import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    // Jobs that share a lane run one at a time, in id order (per-user event delivery relies on it).
    t.string('lane', 255).nullable()
    t.index(['lane', 'id'], 'jobs_lane_id_index')
    // Every worker pass looks for in-progress jobs whose lock expired (a dead worker's jobs).
    t.index(['status', 'lock_expires_at'], 'jobs_status_lock_expires_at_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['status', 'lock_expires_at'], 'jobs_status_lock_expires_at_index')
    t.dropIndex(['lane', 'id'], 'jobs_lane_id_index')
    t.dropColumn('lane')
  })
}
