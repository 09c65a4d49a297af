import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // The event log. No foreign key on user_id: a user's events (user.deleted above all)
  // must outlive the user so that subscribers still receive them.
  await knex.schema.createTable('events', (t) => {
    t.bigIncrements('id').primary()
    t.string('type', 120).notNullable()
    t.integer('user_id').nullable()
    t.text('payload').notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['type', 'id'])
    t.index(['user_id', 'id'])
  })

  // Cron jobs that plugins schedule. The row, not a timer in memory, says when the next
  // fire is due, so a restart misses nothing and several processes fire it once.
  await knex.schema.createTable('cron_schedules', (t) => {
    t.string('name', 120).primary()
    t.string('cron_expression', 120).notNullable()
    t.string('time_zone', 64).notNullable()
    t.text('payload').notNullable()
    t.bigInteger('next_run_at').notNullable().index()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('cron_schedules')
  await knex.schema.dropTableIfExists('events')
}
