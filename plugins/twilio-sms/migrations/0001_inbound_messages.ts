import type { Knex } from 'knex'
import type { PluginMigration } from 'kronus'

async function up(knex: Knex): Promise<void> {
  // Kronus 0.1.0 made this table in its core migration 0007_inbound_messages: a database
  // it made has it already, with its rows, and keeps it.
  if (await knex.schema.hasTable('inbound_messages')) return
  // Inbound texts already handled, by the id their channel gave them (Twilio's MessageSid),
  // with the reply that was given: a webhook the provider retries is answered again with
  // the same reply instead of being handled twice. No foreign key on user_id: a row only
  // has to outlive the retries, and old rows are pruned.
  await knex.schema.createTable('inbound_messages', (t) => {
    t.increments('id').primary()
    t.string('channel', 64).notNullable()
    t.string('message_id', 64).notNullable()
    t.integer('user_id').nullable()
    t.text('reply').nullable()
    // Null while the transaction that handles the text runs; it commits with the handling.
    t.bigInteger('handled_at').nullable()
    t.bigInteger('created_at').notNullable().index()
    t.unique(['channel', 'message_id'])
  })
}

async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbound_messages')
}

export const inboundMessagesTable: PluginMigration = { name: '0001_inbound_messages', up, down }
