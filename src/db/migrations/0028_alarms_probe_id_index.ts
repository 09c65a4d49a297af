import type { Knex } from 'knex'

/*
 * A user's probe list shows which of its probes raised an alarm, on every page read: by
 * alarms.probe_id, which had no index, so each read scanned every alarm ever raised.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alarms', (t) => {
    t.index(['probe_id'], 'alarms_probe_id_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alarms', (t) => {
    t.dropIndex(['probe_id'], 'alarms_probe_id_index')
  })
}
