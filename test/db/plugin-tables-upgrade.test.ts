import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { emergencyContact } from '../../plugins/emergency-contact/index.js'
import { outboundWebhook } from '../../plugins/outbound-webhook/index.js'
import { handleOnce } from '../../plugins/twilio-sms/handled-once.js'
import { twilioSms } from '../../plugins/twilio-sms/index.js'
import { scopedDatabase } from '../../src/plugins/database.js'
import type { KronusPlugin } from '../../src/plugins/types.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { call, login } from '../helpers/http.js'

/*
 * A database made by Kronus 0.1.0, whose core migrations 0006-0008 made the tables the
 * plugins own now (test/fixtures/make-kronus-0.1.0-db.ts made it), opens with today's code
 * and keeps its rows, which the plugins go on using.
 */

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kronus-0.1.0.db')
const PASSPHRASE = 'fixture-passphrase-0.1.0'

/** A Kronus on a copy of the fixture (the committed file is never written to). */
async function openFixture(t: Test, plugins: KronusPlugin<any>[]): Promise<TestKronus> {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-upgrade-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  copyFileSync(FIXTURE, join(dir, 'kronus.db'))
  // dev: twilio-sms registers without Twilio credentials.
  const config = Object.assign({ kronus: { sqlite: { passPhrase: PASSPHRASE } }, plugins }, { dev: true })
  return buildKronus(t, { dir, database: 'sqlcipher', config })
}

t.test(
  'the users, contacts, webhooks, deliveries, inbound texts and alert deliveries of a 0.1.0 database are still there and in use',
  async (t) => {
    const kronus = await openFixture(t, [twilioSms(), emergencyContact(), outboundWebhook()])
    const token = await login(kronus, 'user@example.com', 'user-password-1')
    const user = await kronus.knex('users').where({ email: 'user@example.com' }).first()

    const contacts = await call(kronus, { url: `/v1/users/${user.id}/contacts`, token })
    t.equal(contacts.statusCode, 200)
    t.match(contacts.body.data, [
      { first_name: 'Carl', last_name: 'Contact', phone_number: '+15550000003', is_emergency_contact: true }
    ])
    // Emergency contacts from before consent existed are agreed (migration 0019), never asked.
    t.match(contacts.body.data, [{ consent_state: 'agreed', invited_at: null }])

    const webhooks = await call(kronus, { url: `/v1/users/${user.id}/webhooks`, token })
    t.equal(webhooks.statusCode, 200)
    t.match(webhooks.body.data, [
      {
        url: 'https://hooks.example.com/kronus',
        events: ['emergency.triggered'],
        description: 'fixture dashboard',
        active: true
      }
    ])
    const deliveries = await call(kronus, {
      url: `/v1/users/${user.id}/webhooks/${webhooks.body.data[0].id}/deliveries`,
      token
    })
    t.equal(deliveries.statusCode, 200)
    t.match(deliveries.body.data, [{ event_type: 'emergency.triggered', succeeded: true, status_code: 200 }])

    // A retry of the text 0.1.0 handled gets the same reply and is not handled again.
    const retried = await handleOnce(
      {
        db: scopedDatabase('twilio-sms', ['inbound_messages'], kronus.knex),
        now: () => kronus.clock.now(),
        channel: 'twilio-sms',
        messageId: 'SMfixture1'
      },
      async () => {
        throw new Error('a text handled before the upgrade was handled again')
      }
    )
    t.same(retried, { userId: user.id, reply: 'Thanks, glad you are OK.', duplicate: true })

    t.match(await kronus.knex('emergency_alert_deliveries'), [
      { user_id: user.id, contact_name: 'Carl Contact', phone_number: '+15550000003', status: 'reached' }
    ])

    const recorded = await kronus.knex('plugin_migrations').orderBy('id').select('plugin', 'name')
    t.same(
      recorded,
      [
        { plugin: 'twilio-sms', name: '0001_inbound_messages' },
        { plugin: 'emergency-contact', name: '0001_alert_deliveries' },
        { plugin: 'outbound-webhook', name: '0001_webhook_tables' }
      ],
      "each plugin's first migration is recorded as done"
    )
  }
)

t.test('a 0.1.0 database opens without the plugins configured, and keeps their tables for when they are', async (t) => {
  const kronus = await openFixture(t, [])
  t.same(await kronus.knex('plugin_migrations'), [], 'no plugin migration ran')
  t.equal((await kronus.knex('webhook_endpoints')).length, 1, 'the webhook is still there')
  t.equal((await kronus.knex('emergency_alert_deliveries')).length, 1, 'the alert delivery is still there')
  t.equal((await kronus.knex('inbound_messages')).length, 1, 'the inbound text is still there')
})
