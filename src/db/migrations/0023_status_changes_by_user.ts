import type { Knex } from 'knex'

/*
 * A user's last check-in outcome is their last probe_status_changes row of an outcome
 * (src/probes/aliveness.ts; GET /v1/statuses reads it for every user on a page and decides
 * each state with it). Without this index each read scanned the whole table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probe_status_changes', (t) => {
    t.index(['user_id', 'id'], 'probe_status_changes_user_id_id_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probe_status_changes', (t) => {
    t.dropIndex(['user_id', 'id'], 'probe_status_changes_user_id_id_index')
  })
}
