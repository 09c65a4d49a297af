import type { Knex } from 'knex'

/*
 * Issue 15, point 3: a duress alarm must stay invisible to its user, who may be made to
 * open their account by the very person they are under threat from.
 *
 * events.hidden_from_user: an event about the user that the user must not see (every
 * event of a duress alarm, and the texts that alert its contacts). It is set when the
 * event is recorded, by whoever records it (the alarm engine knows the alarm is a
 * duress alarm); the user's own GET /v1/events and their own webhooks leave such events
 * out, administrators and configured (server-wide) webhooks still get them.
 *
 * message_sends.hidden_from_user: the same mark on a text sent, so that its delivery
 * receipts (message.delivered, message.undelivered), which name only the provider's id,
 * are hidden as its message.sent was.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('events', (t) => {
    t.boolean('hidden_from_user').notNullable().defaultTo(false)
  })
  await knex.schema.alterTable('message_sends', (t) => {
    t.boolean('hidden_from_user').notNullable().defaultTo(false)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('message_sends', (t) => {
    t.dropColumn('hidden_from_user')
  })
  await knex.schema.alterTable('events', (t) => {
    t.dropColumn('hidden_from_user')
  })
}
