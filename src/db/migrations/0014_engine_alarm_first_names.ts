import type { Knex } from 'knex'

/*
 * The alarm engine greets people by first name ("Ann, this is Kronus...", "Reply OK 42 if
 * you will check on Bob"). Alarms copy names when raised (0013), so the first names are
 * copied too: an alarm still reads right after the user or a contact is edited or deleted.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alarms', (t) => {
    t.string('user_first_name', 100).notNullable().defaultTo('')
  })
  await knex.schema.alterTable('alarm_contacts', (t) => {
    t.string('first_name', 100).notNullable().defaultTo('')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('alarm_contacts', (t) => {
    t.dropColumn('first_name')
  })
  await knex.schema.alterTable('alarms', (t) => {
    t.dropColumn('user_first_name')
  })
}
