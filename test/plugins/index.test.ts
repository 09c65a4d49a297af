import t from 'tap'
import { builtinPlugins, emergencyContact, outboundWebhook, smsCommands, twilioSms } from '../../plugins/index.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { KronusPlugin } from '../../src/plugins/types.js'
import { buildKronus } from '../helpers/app.js'
import { createAdmin } from '../helpers/http.js'
import { testPrivateKeyPem } from '../helpers/keys.js'
import { AUTH_TOKEN, postSms } from './twilio-sms/sms-kronus.js'

const TWILIO = { accountSid: 'AC' + '2'.repeat(32), authToken: AUTH_TOKEN, messagingServiceSid: 'MG' + 'c'.repeat(32) }

const names = (plugins: Array<{ name: string }>) => plugins.map((p) => p.name)

/** The parts of a resolved configuration builtinPlugins reads; backups off. */
function configWith(
  twilio: { accountSid?: string; authToken?: string; messagingServiceSid?: string },
  plugins: KronusPlugin<any>[] = []
) {
  return {
    plugins,
    twilio,
    dev: false,
    database: { client: 'sqlcipher' as const, filename: 'kronus.db' },
    google: { storage: { prefix: 'kronus', sqliteBackupSchedule: '*/15 * * * *', enableSqliteBackupAndSync: false } }
  }
}

t.test('a config with twilio keys and no plugin list implies all three SMS plugins and webhooks', async (t) => {
  t.same(names(builtinPlugins(configWith(TWILIO))), [
    'twilio-sms',
    'sms-commands',
    'emergency-contact',
    'outbound-webhook'
  ])
})

t.test('without twilio keys, twilio-sms is left out, the others never are', async (t) => {
  t.same(names(builtinPlugins(configWith({}))), ['sms-commands', 'emergency-contact', 'outbound-webhook'])
  t.same(
    names(builtinPlugins(configWith({ authToken: 'x' }))),
    ['twilio-sms', 'sms-commands', 'emergency-contact', 'outbound-webhook'],
    'any twilio key counts'
  )
})

t.test('a built-in the user listed is not added again, whatever its options', async (t) => {
  const listed = [twilioSms({ messagesPerSecond: 3 }), emergencyContact({ maxAttempts: 20 })]
  t.same(names(builtinPlugins(configWith(TWILIO, listed))), ['sms-commands', 'outbound-webhook'])
  t.same(names(builtinPlugins(configWith(TWILIO, [smsCommands(), outboundWebhook(), ...listed]))), [])
})

t.test("the first Kronus's config.yml shape, with only twilio keys, gets a working SMS loop", async (t) => {
  // What `kronus server` does: the user's plugins, then the implied built-ins (dev mode: no real sends).
  const config = resolveConfig({
    dev: true,
    kronus: { privateKeyPem: testPrivateKeyPem(), publicUrl: 'https://kronus.example', sqlite: { passPhrase: 'p' } },
    twilio: TWILIO
  } as never)
  const kronus = await buildKronus(t, {
    config: {
      dev: true,
      kronus: { publicUrl: 'https://kronus.example' },
      twilio: TWILIO,
      plugins: builtinPlugins(config)
    } as never
  })
  const admin = await createAdmin(kronus)
  const reply = await postSms(kronus, { from: admin.phone_number, body: 'ping' })
  t.equal(reply.statusCode, 200, 'the webhook is served')
  t.same(reply.messages, ['PONG!'], 'sms-commands answers')
})
