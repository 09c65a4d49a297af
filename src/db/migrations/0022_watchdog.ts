import type { Knex } from 'knex'

/*
 * What the watchdog (src/services/watchdog.ts) reads and writes, so that every instance
 * on one database sees the same health:
 *
 * channel_health: one row per messaging channel that has failed. `failing_since` is the
 * first failed send since the last one that went through (null while sends go through);
 * `account_error` is the last error of the provider that refuses the account itself
 * (credentials, a suspended account, an unregistered sender), kept until a send
 * (`account_error_source` 'send') or a delivery ('delivery') shows it cured.
 *
 * plugin_health: a plugin that says it is degraded (kronus.health.degraded), with its
 * reason, until it says it recovered.
 *
 * degraded_conditions: the conditions the watchdog has seen and not yet seen end.
 * `announced` once a second check in a row saw it and it was announced (event, log,
 * admin texts): each start and each end is announced once, whichever instance runs
 * the check.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('channel_health', (t) => {
    t.string('channel', 64).primary()
    t.bigInteger('failing_since').nullable()
    t.bigInteger('last_failure_at').nullable()
    t.text('last_error').nullable()
    t.text('account_error').nullable()
    t.string('account_error_source', 16).nullable()
    t.bigInteger('account_error_at').nullable()
    t.bigInteger('updated_at').notNullable()
  })
  await knex.schema.createTable('plugin_health', (t) => {
    t.string('plugin', 120).primary()
    t.text('reason').notNullable()
    t.bigInteger('since').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
  await knex.schema.createTable('degraded_conditions', (t) => {
    t.string('condition', 200).primary()
    t.text('reason').notNullable()
    t.boolean('about_texting').notNullable()
    t.bigInteger('started_at').notNullable()
    t.boolean('announced').notNullable().defaultTo(false)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('degraded_conditions')
  await knex.schema.dropTableIfExists('plugin_health')
  await knex.schema.dropTableIfExists('channel_health')
}
