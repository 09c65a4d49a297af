import type { Knex } from 'knex'

/*
 * text_counts: texts queued per subject (`user:<id>`, or `server` for the whole server)
 * per hour (`hour` is the epoch ms the hour starts at). A user's texts of the last 24
 * hours are the sum of their rows of the last 24 hours: one row per user per hour, so a
 * fan-out to 100k users adds 100k small upserts, not a row per text forever. Old rows
 * are pruned with the queue's successful jobs.
 *
 * on_demand_requests: each check-in a user asked for, so the on-demand allowance counts
 * the last 24 hours (not a local day a time_zone change could restart), and a delayed
 * request merged into a check-in that was waiting is taken back (`merged_at`).
 *
 * The fixed-window counters 0011's rate_limits held for on-demand probes per local day
 * are of no further use.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('text_counts', (t) => {
    t.string('subject', 32).notNullable()
    t.bigInteger('hour').notNullable()
    t.integer('count').notNullable()
    t.primary(['subject', 'hour'])
    t.index(['hour'], 'text_counts_hour_index')
  })
  await knex.schema.createTable('on_demand_requests', (t) => {
    t.string('request_id', 64).primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.bigInteger('requested_at').notNullable()
    t.bigInteger('starts_at').notNullable()
    t.integer('retries').notNullable()
    t.integer('wait_minutes').notNullable()
    t.bigInteger('merged_at').nullable()
    t.index(['user_id', 'requested_at'], 'on_demand_requests_user_index')
  })
  await knex('rate_limits').where('key', 'like', 'probes.on_demand:%').delete()
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('on_demand_requests')
  await knex.schema.dropTable('text_counts')
}
