import type { Knex } from 'knex'

/*
 * Issue 15, points 3 and 4.
 *
 * escalation_settings.duress_word_hash: a user's duress word, never stored as typed: a
 * random salt and SHA-256 of the salt and the normalized word (`<salt hex>:<hash hex>`),
 * so a reply can be matched without the word being readable from the database.
 *
 * checkin_links: one secret check-in URL per user. Only SHA-256 of the token is kept (the
 * token is shown once, when created); looking a token up is one read of the unique index.
 * `proof_of_life_at` is the latest press of the link that answered no check-in and has
 * not yet satisfied a scheduled one (null once used).
 *
 * probe_settings.checkin_window_minutes: a proof of life this many minutes or less before
 * a scheduled check-in satisfies it (no text is sent); 0 turns this off.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('escalation_settings', (t) => {
    t.string('duress_word_hash', 200).nullable()
  })
  await knex.schema.createTable('checkin_links', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable().unique().references('users.id').onDelete('CASCADE')
    t.string('token_hash', 64).notNullable().unique()
    t.bigInteger('proof_of_life_at').nullable()
    t.bigInteger('created_at').notNullable()
  })
  await knex.schema.alterTable('probe_settings', (t) => {
    t.integer('checkin_window_minutes').notNullable().defaultTo(0)
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('probe_settings', (t) => {
    t.dropColumn('checkin_window_minutes')
  })
  await knex.schema.dropTable('checkin_links')
  await knex.schema.alterTable('escalation_settings', (t) => {
    t.dropColumn('duress_word_hash')
  })
}
