import type { Knex } from 'knex'
import type { PluginMigration } from 'kronus'

async function up(knex: Knex): Promise<void> {
  // Kronus 0.1.0 made this table in its core migration 0008_emergency_alert_deliveries: a
  // database it made has it already, with its rows, and keeps it.
  if (await knex.schema.hasTable('emergency_alert_deliveries')) return
  // What became of each text to an emergency contact: the user is told whom Kronus reached
  // once every text of an alert has an outcome, and an alert that reached nobody is an
  // event and a logged error. The name, number and text are kept as they were sent, so a
  // contact edited or deleted afterwards does not change the story.
  await knex.schema.createTable('emergency_alert_deliveries', (t) => {
    t.increments('id').primary()
    t.integer('emergency_probe_id').notNullable().unique().references('emergency_probes.id').onDelete('CASCADE')
    t.integer('probe_id').notNullable().references('probes.id').onDelete('CASCADE')
    t.integer('user_id').notNullable()
    t.string('contact_name', 201).notNullable()
    t.string('phone_number', 20).notNullable()
    t.text('text').notNullable()
    // 'sending', then 'reached' or 'failed'.
    t.string('status', 16).notNullable()
    t.text('error').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.index(['user_id', 'status'])
    t.index(['probe_id'])
  })
}

async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('emergency_alert_deliveries')
}

export const alertDeliveriesTable: PluginMigration = { name: '0001_alert_deliveries', up, down }
