import type { Knex } from 'knex'
import type { PluginMigration } from 'kronus'

/*
 * Tables of the outbound-webhook plugin. Timestamps are epoch ms, like everywhere else, so
 * no query needs a dialect's date functions. Kronus 0.1.0 made these tables in its core
 * migration 0006_webhooks: a database it made has them already, with their rows, and keeps them.
 */
async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('webhook_endpoints'))) await createEndpoints(knex)
  if (!(await knex.schema.hasTable('webhook_deliveries'))) await createDeliveries(knex)
}

async function createEndpoints(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    t.increments('id').primary()
    // Null for the endpoints of kronus.config.ts, which receive every user's events.
    t.integer('user_id').nullable().references('users.id').onDelete('CASCADE')
    // Identifies a configured endpoint across restarts (a hash of its URL); null for users' endpoints.
    t.string('config_key', 64).nullable().unique()
    t.string('url', 2048).notNullable()
    // JSON array of event names.
    t.text('events').notNullable()
    t.string('description', 500).notNullable().defaultTo('')
    t.boolean('active').notNullable().defaultTo(true)
    // Set when Kronus turned the endpoint off (a 410, or days of failures).
    t.string('disabled_reason', 255).nullable()
    t.bigInteger('disabled_at').nullable()
    // whsec_ secrets of users' endpoints; configured endpoints keep theirs in the configuration.
    t.string('secret', 128).nullable()
    // The secret before the last rotation, still signed with until previous_secret_expires_at.
    t.string('previous_secret', 128).nullable()
    t.bigInteger('previous_secret_expires_at').nullable()
    // First failed attempt since the last success; days of failures disable the endpoint.
    t.bigInteger('failing_since').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.index(['user_id', 'id'])
  })
}

async function createDeliveries(knex: Knex): Promise<void> {
  // One row per attempt to deliver one event to one endpoint.
  await knex.schema.createTable('webhook_deliveries', (t) => {
    t.bigIncrements('id').primary()
    t.integer('endpoint_id').notNullable().references('webhook_endpoints.id').onDelete('CASCADE')
    t.bigInteger('event_id').notNullable()
    t.string('event_type', 120).notNullable()
    // The webhook-id header: the same for every attempt of one event to one endpoint.
    t.string('message_id', 80).notNullable()
    // 'event' for the original delivery, 'redelivery' for one asked for through the API.
    t.string('trigger', 16).notNullable()
    t.integer('attempt').notNullable()
    t.boolean('succeeded').notNullable()
    t.integer('status_code').nullable()
    t.integer('latency_ms').notNullable()
    t.text('response_body').notNullable()
    t.string('error', 1000).nullable()
    t.bigInteger('created_at').notNullable().index()
    t.index(['endpoint_id', 'id'])
  })
}

async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_deliveries')
  await knex.schema.dropTableIfExists('webhook_endpoints')
}

export const webhookTables: PluginMigration = { name: '0001_webhook_tables', up, down }
