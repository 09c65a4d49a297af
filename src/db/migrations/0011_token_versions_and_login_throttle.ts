import type { Knex } from 'knex'

/*
 * Tokens that end when they should, and login throttling per client:
 * - users.token_version goes up when the password or email changes; a token carries the
 *   version it was issued under and is refused once the user's version has moved on.
 * - revoked_tokens holds the ids (jti) of tokens ended by POST /v1/logout until they
 *   would have expired anyway, in the database so that every instance refuses them.
 * - login_failures counts failed logins per (account, client address) pair, with the
 *   time before which that pair may not try again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.integer('token_version').notNullable().defaultTo(0)
  })
  await knex.schema.createTable('revoked_tokens', (t) => {
    t.string('jti', 64).primary()
    t.bigInteger('expires_at').notNullable().index()
  })
  await knex.schema.createTable('login_failures', (t) => {
    t.string('key', 512).primary()
    t.integer('failures').notNullable()
    t.bigInteger('blocked_until').notNullable()
    t.bigInteger('expires_at').notNullable().index()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures')
  await knex.schema.dropTableIfExists('revoked_tokens')
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('token_version')
  })
}
