import type { Knex } from 'knex'

/*
 * Check-in comfort (issue 15): quiet hours, 'HH:MM' in the user's zone (both or neither),
 * during which no scheduled check-in or follow-up is sent; paused_until (epoch ms), before
 * which no scheduled check-in is sent. users.sms_opted_out_at: when the user texted STOP
 * (carriers then block every text to them), so `on` / `resume` by text can answer "START
 * first" instead of turning on check-ins nobody can receive.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probe_settings', (t) => {
    t.string('quiet_hours_start', 5).nullable()
    t.string('quiet_hours_end', 5).nullable()
    t.bigInteger('paused_until').nullable()
  })
  await knex.schema.alterTable('users', (t) => {
    t.bigInteger('sms_opted_out_at').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('sms_opted_out_at')
  })
  await knex.schema.alterTable('probe_settings', (t) => {
    t.dropColumn('paused_until')
    t.dropColumn('quiet_hours_end')
    t.dropColumn('quiet_hours_start')
  })
}
