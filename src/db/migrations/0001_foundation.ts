import type { Knex } from 'knex'

/*
 * Every timestamp is a bigint of epoch milliseconds: it compares the same way in SQLite
 * and PostgreSQL, so no query needs a dialect's date functions.
 */
function stamps(t: Knex.CreateTableBuilder): void {
  t.bigInteger('created_at').notNullable()
  t.bigInteger('updated_at').notNullable()
}

const ROLE = { admin: 1, basic: 2 } as const
const PROBE_STATUS = { pending: 1, good: 2, bad: 3, unavailable: 4, cancelled: 5 } as const

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('roles', (t) => {
    t.increments('id').primary()
    t.string('name', 32).notNullable().unique()
    stamps(t)
  })
  await knex('roles').insert(Object.entries(ROLE).map(([name, id]) => ({ id, name, created_at: 0, updated_at: 0 })))

  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary()
    t.string('first_name', 100).notNullable()
    t.string('last_name', 100).notNullable()
    t.string('email', 320).notNullable().unique()
    t.string('phone_number', 20).notNullable().unique()
    t.string('password_hash', 255).notNullable()
    t.integer('role_id').notNullable().references('roles.id')
    stamps(t)
  })

  // A row here means "the first admin has been made"; its primary key lets exactly one
  // of many simultaneous first sign-ups win, on SQLite and PostgreSQL alike.
  await knex.schema.createTable('bootstrap_claims', (t) => {
    t.string('name', 64).primary()
    t.bigInteger('created_at').notNullable()
  })

  await knex.schema.createTable('contacts', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.string('first_name', 100).notNullable()
    t.string('last_name', 100).notNullable()
    t.string('phone_number', 20).notNullable()
    t.string('email', 320).nullable()
    t.boolean('is_emergency_contact').notNullable().defaultTo(false)
    // Emergency contacts are alerted in the order they were marked.
    t.bigInteger('emergency_marked_at').nullable()
    stamps(t)
    t.unique(['user_id', 'phone_number'])
  })

  await knex.schema.createTable('probe_settings', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable().unique().references('users.id').onDelete('CASCADE')
    t.boolean('active').notNullable().defaultTo(false)
    t.string('cron_expression', 120).notNullable()
    t.integer('max_retries').notNullable()
    t.integer('wait_time_in_minutes').notNullable()
    t.string('time_zone', 64).nullable()
    // Next scheduled fire; null while inactive. The scheduler reads only rows that are due.
    t.bigInteger('next_fire_at').nullable().index()
    stamps(t)
  })

  await knex.schema.createTable('probe_statuses', (t) => {
    t.increments('id').primary()
    t.string('name', 32).notNullable().unique()
    stamps(t)
  })
  await knex('probe_statuses').insert(
    Object.entries(PROBE_STATUS).map(([name, id]) => ({ id, name, created_at: 0, updated_at: 0 }))
  )

  await knex.schema.createTable('probes', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.integer('probe_status_id').notNullable().references('probe_statuses.id')
    t.text('last_response').notNullable().defaultTo('')
    t.integer('retry_count').notNullable().defaultTo(0)
    t.integer('max_retries').notNullable()
    t.integer('wait_time_in_minutes').notNullable()
    t.string('origin', 16).notNullable() // 'scheduled' | 'on_demand'
    // Set to user_id while pending, null afterwards: the unique index allows one pending probe per user.
    t.integer('pending_user_id').nullable().unique()
    stamps(t)
    t.index(['user_id', 'id'])
    t.index(['probe_status_id'])
  })

  // One row per status change of a probe (a "flip"); notifications are derived from these.
  await knex.schema.createTable('probe_status_changes', (t) => {
    t.increments('id').primary()
    t.integer('probe_id').notNullable().references('probes.id').onDelete('CASCADE')
    t.integer('user_id').notNullable()
    t.string('from_status', 32).nullable()
    t.string('to_status', 32).notNullable()
    t.string('reason', 255).notNullable()
    t.bigInteger('created_at').notNullable()
    t.index(['probe_id'])
  })

  await knex.schema.createTable('emergency_probes', (t) => {
    t.increments('id').primary()
    t.integer('probe_id').notNullable().references('probes.id').onDelete('CASCADE')
    t.integer('contact_id').nullable().references('contacts.id').onDelete('SET NULL')
    stamps(t)
    t.unique(['probe_id', 'contact_id'])
  })

  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id').primary()
    t.string('name', 120).notNullable()
    t.text('payload').notNullable()
    t.string('status', 16).notNullable()
    // The unique key while the job is live (scheduled, enqueued, in-progress); null once it ends.
    t.string('live_key', 255).nullable().unique()
    t.string('job_key', 255).nullable()
    // The user a job is about, if any: deleting a user deletes their pending jobs.
    t.integer('user_id').nullable().index()
    t.bigInteger('run_at').notNullable()
    t.integer('attempts').notNullable().defaultTo(0)
    t.integer('max_attempts').notNullable()
    t.text('last_error').nullable()
    t.bigInteger('locked_at').nullable()
    t.string('locked_by', 120).nullable()
    t.bigInteger('lock_expires_at').nullable()
    t.bigInteger('finished_at').nullable()
    stamps(t)
    t.index(['status', 'run_at'])
    t.index(['finished_at'])
  })

  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary()
    t.integer('count').notNullable()
    t.bigInteger('reset_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'rate_limits',
    'jobs',
    'emergency_probes',
    'probe_status_changes',
    'probes',
    'probe_statuses',
    'probe_settings',
    'contacts',
    'bootstrap_claims',
    'users',
    'roles'
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
