import type { Knex } from 'knex'

/*
 * This migration created the twilio-sms plugin's inbound_messages (plugins/twilio-sms/migrations/0001_inbound_messages.ts).
 * The plugin creates that table now, with its own migrations, when it is configured. The
 * name stays in the list, doing nothing, because databases in the field have recorded it
 * and knex refuses to migrate a database that ran a migration it no longer knows.
 */
export async function up(_knex: Knex): Promise<void> {}

export async function down(_knex: Knex): Promise<void> {}
