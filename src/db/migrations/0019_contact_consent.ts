import type { Knex } from 'knex'

/*
 * Emergency contacts agree first (issue 15): a new emergency contact gets one text and
 * stays `pending` until they reply YES <consent_code>, or becomes `refused` when they
 * reply STOP. consent_state is null for a contact never asked (one that is no emergency
 * contact: they get no texts, and are asked when first marked).
 *
 * Emergency contacts that exist at upgrade are `agreed`: they were set up before consent
 * existed. Making them pending would not stop alarms (alarms go to pending contacts too)
 * but would stop their users from turning check-ins back on, for a text nobody sent.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('contacts', (t) => {
    t.string('consent_state', 16).nullable()
    // The code of a pending invitation (null otherwise), unique among that phone's pending invitations.
    t.string('consent_code', 5).nullable()
    t.bigInteger('invited_at').nullable()
    t.bigInteger('consent_at').nullable()
    t.index(['phone_number', 'consent_state'])
    t.unique(['phone_number', 'consent_code'])
  })
  await knex('contacts').where({ is_emergency_contact: true }).update({ consent_state: 'agreed' })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('contacts', (t) => {
    t.dropUnique(['phone_number', 'consent_code'])
    t.dropIndex(['phone_number', 'consent_state'])
    t.dropColumn('consent_at')
    t.dropColumn('invited_at')
    t.dropColumn('consent_code')
    t.dropColumn('consent_state')
  })
}
