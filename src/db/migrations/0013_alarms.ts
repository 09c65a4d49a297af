import type { Knex } from 'knex'

/*
 * The alarm engine's tables. An alarm is a first-class record, like a probe: raised by a
 * "no", distress in words, silence, a panic word, an unreachable user or a duress word,
 * and then escalated to the user's emergency contacts until one of them acknowledges and
 * somebody resolves it. Every change to an alarm or to one contact's part in it is a row
 * of alarm_timeline, written in the transaction that made the change.
 *
 * The user's name and number and each contact's name and number are copied onto the alarm
 * when it is raised: an alarm already raised still goes out, and still reads as it was,
 * when the user or a contact is edited or deleted afterwards. So alarms.user_id and
 * alarm_contacts.contact_id are plain columns, not foreign keys that would cascade.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('alarms', (t) => {
    t.increments('id').primary()
    t.integer('user_id').notNullable()
    t.string('user_name', 201).notNullable()
    t.string('user_phone', 20).notNullable()
    // The probe it ended, if any (a panic word or an unreachable number needs none).
    t.integer('probe_id').nullable()
    // said_no | distress | no_answer | panic | unreachable | duress
    t.string('trigger', 16).notNullable()
    // The person's own words that raised it, quoted to the contacts.
    t.text('quote').nullable()
    // The short code contacts answer with ("OK 42"); unique among alarms not resolved.
    t.string('code', 8).notNullable()
    t.string('open_code', 8).nullable().unique()
    // open | acknowledged | resolved
    t.string('status', 16).notNullable()
    // The escalation settings as they were when it was raised.
    t.string('mode', 8).notNullable()
    t.integer('step_minutes').notNullable()
    t.integer('repeats').notNullable()
    t.boolean('voice_calls').notNullable()
    // How far escalation has gone: contacts added (ordered mode) and reminders sent.
    t.integer('step').notNullable().defaultTo(0)
    t.integer('repeats_sent').notNullable().defaultTo(0)
    // Steps and repeats ran out with nobody acknowledging; it stays open.
    t.bigInteger('exhausted_at').nullable()
    t.integer('acknowledged_by').nullable()
    t.bigInteger('acknowledged_at').nullable()
    t.string('resolved_reason', 255).nullable()
    t.string('resolved_by', 201).nullable()
    t.bigInteger('resolved_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.index(['user_id', 'id'])
    t.index(['status', 'id'])
  })

  await knex.schema.createTable('alarm_contacts', (t) => {
    t.increments('id').primary()
    t.integer('alarm_id').notNullable().references('alarms.id').onDelete('CASCADE')
    t.integer('contact_id').nullable()
    t.string('name', 201).notNullable()
    t.string('phone_number', 20).notNullable()
    // Order of escalation (ordered mode), from 0.
    t.integer('position').notNullable()
    // waiting (not alerted yet) | queued | sent | delivered | undelivered | acknowledged | called
    t.string('state', 16).notNullable()
    // The provider's id of the latest alert text or call to this contact, for receipts.
    t.string('message_id', 64).nullable()
    t.integer('error_code').nullable()
    t.text('error').nullable()
    t.integer('texts_sent').notNullable().defaultTo(0)
    t.integer('calls_placed').notNullable().defaultTo(0)
    t.bigInteger('alerted_at').nullable()
    t.bigInteger('acknowledged_at').nullable()
    t.bigInteger('updated_at').notNullable()
    t.unique(['alarm_id', 'phone_number'])
    t.index(['phone_number', 'alarm_id'])
    t.index(['message_id'])
  })

  await knex.schema.createTable('alarm_timeline', (t) => {
    t.increments('id').primary()
    t.integer('alarm_id').notNullable().references('alarms.id').onDelete('CASCADE')
    t.integer('alarm_contact_id').nullable()
    // raised | alerted | sent | delivered | undelivered | called | escalated | reminded |
    // exhausted | acknowledged | resolved | contact_opted_out | ...
    t.string('kind', 32).notNullable()
    t.text('detail').nullable()
    t.bigInteger('created_at').notNullable()
    t.index(['alarm_id', 'id'])
  })

  // Per user; a user without a row has the defaults (all, 10, 3, false).
  await knex.schema.createTable('escalation_settings', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE')
    t.string('mode', 8).notNullable()
    t.integer('step_minutes').notNullable()
    t.integer('repeats').notNullable()
    t.boolean('voice_calls').notNullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })

  await knex.schema.alterTable('contacts', (t) => {
    // The contact texted STOP: no alert text can reach them.
    t.bigInteger('sms_opted_out_at').nullable()
  })

  await knex.schema.alterTable('jobs', (t) => {
    // Higher runs first: emergency texts and calls never wait behind other work.
    t.integer('priority').notNullable().defaultTo(0)
  })

  await knex.schema.alterTable('message_sends', (t) => {
    // What the text was for (e.g. an alarm contact), so a delivery receipt can be traced back.
    t.string('ref', 160).nullable()
    t.integer('user_id').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('message_sends', (t) => {
    t.dropColumn('user_id')
    t.dropColumn('ref')
  })
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('priority')
  })
  await knex.schema.alterTable('contacts', (t) => {
    t.dropColumn('sms_opted_out_at')
  })
  for (const table of ['escalation_settings', 'alarm_timeline', 'alarm_contacts', 'alarms']) {
    await knex.schema.dropTableIfExists(table)
  }
}
