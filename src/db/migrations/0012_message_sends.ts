import type { Knex } from 'knex'

/*
 * One row per text job while its send is in flight, kept after it ends with the
 * provider's id. A row still in flight when its job runs again means a worker died (or a
 * request's outcome was lost) between the request to the provider and the record of it:
 * the text is reconciled with the provider before it is sent again. A row goes with its
 * job when successful jobs are pruned.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('message_sends', (t) => {
    t.bigInteger('job_id').primary().references('id').inTable('jobs').onDelete('CASCADE')
    t.string('channel', 64).notNullable()
    t.bigInteger('started_at').notNullable()
    t.string('provider_id', 64).nullable()
    t.bigInteger('finished_at').nullable()
    // Reconciling asks whether a text the provider lists is already some other send's.
    t.index(['channel', 'provider_id'], 'message_sends_channel_provider_id_index')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('message_sends')
}
