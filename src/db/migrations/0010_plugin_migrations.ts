import type { Knex } from 'knex'

/*
 * Which of each plugin's own migrations a database has run (src/plugins/migrate.ts). Apart
 * from knex's table so that a plugin taken out of the configuration leaves its rows behind
 * harmlessly: knex would refuse to migrate a database that recorded migrations it cannot find.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('plugin_migrations', (t) => {
    t.increments('id').primary()
    t.string('plugin', 63).notNullable()
    t.string('name', 200).notNullable()
    t.bigInteger('migrated_at').notNullable()
    t.unique(['plugin', 'name'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('plugin_migrations')
}
