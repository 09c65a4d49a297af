import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { twilioSms } from '../../../plugins/twilio-sms/index.js'
import { TWILIO_FAILURES } from '../../fakes/twilio-api.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'
import { ACCOUNT_SID, AUTH_TOKEN, buildSmsKronus, SERVICE_SID } from './sms-kronus.js'

const TO = '+15551230000'

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-twilio-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function messageEvents(kronus: TestKronus, type: 'message.sent' | 'message.failed') {
  return (await kronus.events.list({ type })).map((e) => e.payload)
}

t.test('texts go out through the real twilio SDK with the Messaging Service and a ValidityPeriod', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { validityPeriodSeconds: 900 } })
  await kronus.messaging.send({ to: TO, text: 'Are you OK? Reply Y or N.', userId: 7 })
  await kronus.queue.drain()
  t.equal(fake.requests.length, 1)
  t.same(fake.requests[0]!.basicAuth, { username: ACCOUNT_SID, password: AUTH_TOKEN })
  t.same(Object.fromEntries(fake.requests[0]!.form), {
    To: TO,
    Body: 'Are you OK? Reply Y or N.',
    MessagingServiceSid: SERVICE_SID,
    ValidityPeriod: '900',
    StatusCallback: 'https://kronus.example/webhook/sms/status'
  })
  t.same(await messageEvents(kronus, 'message.sent'), [
    { to: TO, text: 'Are you OK? Reply Y or N.', userId: 7, channel: 'twilio', messageId: fake.messages[0]!.sid }
  ])
})

t.test('an invalid number (400, code 21211) is message.failed at once and never retried', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  fake.failNext(1, TWILIO_FAILURES.invalidNumber)
  await kronus.messaging.send({ to: TO, text: 'hello', userId: 3 })
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(24 * 60)
  await kronus.queue.drain()
  t.equal(fake.requests.length, 1, 'one request only')
  t.same(fake.messages, [])
  const failed = await messageEvents(kronus, 'message.failed')
  t.equal(failed.length, 1)
  t.match(failed[0], {
    to: TO,
    text: 'hello',
    userId: 3,
    channel: 'twilio',
    permanent: true,
    error: /HTTP 400 code 21211/
  })
  t.same(await messageEvents(kronus, 'message.sent'), [])
})

t.test('an opted-out recipient (21610) is permanent too', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  fake.failNext(1, TWILIO_FAILURES.optedOut)
  await kronus.messaging.send({ to: TO, text: 'hello' })
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(60)
  await kronus.queue.drain()
  t.equal(fake.requests.length, 1)
  t.match(await messageEvents(kronus, 'message.failed'), [{ permanent: true, error: /21610/ }])
})

t.test('429 and 500 are retried by the job queue with backoff, and the text is then delivered once', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  fake.failNext(1, TWILIO_FAILURES.rateLimited)
  fake.failNext(1, TWILIO_FAILURES.serverError)
  await kronus.messaging.send({ to: TO, text: 'still there?' })
  await kronus.queue.drain()
  t.same(
    fake.requests.map((r) => r.status),
    [429],
    'the first try'
  )
  await kronus.queue.drain()
  t.equal(fake.requests.length, 1, 'no retry before the backoff has passed')
  kronus.clock.advanceMinutes(1)
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(1)
  await kronus.queue.drain()
  // Each retry first asks Twilio whether it has the text (a GET of the Messages list): the
  // 500 hits that list, so nothing is sent on that try; the next finds nothing and sends.
  t.same(
    fake.requests.map((r) => `${r.method} ${r.status}`),
    ['POST 429', 'GET 500', 'GET 200', 'POST 201']
  )
  t.same(
    fake.messages.map((m) => m.body),
    ['still there?']
  )
  t.equal((await messageEvents(kronus, 'message.sent')).length, 1)
  t.same(await messageEvents(kronus, 'message.failed'), [])
})

t.test('Twilio down for every attempt ends in message.failed, not silence', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  fake.failNext(4, TWILIO_FAILURES.serverError)
  await kronus.messaging.send({ to: TO, text: 'hello', userId: 5 })
  for (let i = 0; i < 6; i++) {
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(10)
  }
  t.equal(fake.requests.length, 4, 'four attempts, as every job gets (a send, then three reconciling lists that fail)')
  t.match(await messageEvents(kronus, 'message.failed'), [{ to: TO, userId: 5, permanent: false, error: /HTTP 500/ }])
})

t.test('outside dev mode, missing credentials stop start-up and name the keys to set', async (t) => {
  await t.rejects(
    buildKronus(t, { dir: tempDir(t), config: { twilio: { accountSid: ACCOUNT_SID }, plugins: [twilioSms()] } }),
    {
      message:
        'plugin "twilio-sms" failed to register: texts cannot be sent without twilio.authToken (or TWILIO_AUTH_TOKEN), twilio.messagingServiceSid (or TWILIO_MESSAGING_SERVICE_SID)'
    }
  )
})

t.test("the first Kronus's sample account SID is refused with a readable reason", async (t) => {
  const twilio = {
    accountSid: 'AHKX00SXXXXXXXXXXXXXXXXXXX',
    authToken: 'BHKX00SXXXXXXXXXXXXXXXXXXX',
    messagingServiceSid: 'CHKX00SXXXXXXXXXXXXXXXXXXX'
  }
  await t.rejects(buildKronus(t, { dir: tempDir(t), config: { twilio, plugins: [twilioSms()] } }), {
    message:
      'plugin "twilio-sms" failed to register: twilio.accountSid must start with "AC": copy the Account SID from the Twilio console'
  })
})

t.test('options given to the plugin win over the configuration', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, {
    twilioConfig: { accountSid: 'AC' + '9'.repeat(32), authToken: 'other', messagingServiceSid: 'MG' + 'f'.repeat(32) },
    twilio: { messagingServiceSid: SERVICE_SID }
  })
  await kronus.messaging.send({ to: TO, text: 'hi' })
  await kronus.queue.drain()
  t.equal(fake.requests[0]!.form.get('MessagingServiceSid'), SERVICE_SID)
})

t.test('bad options stop Kronus where the plugin is configured', async (t) => {
  t.throws(() => twilioSms({ messagesPerSecond: 0 }), {
    message: /^Bad options for twilio-sms: "messagesPerSecond" must be a positive number/
  })
  t.throws(() => twilioSms({ validityPeriodSeconds: 36_001 }), {
    message: /"validityPeriodSeconds" must be less than or equal to 36000/
  })
  t.throws(() => twilioSms({ client: {} as never }), { message: /"client" must be a twilio client/ })
})

t.test('in dev mode nothing goes to Twilio: the console channel prints texts', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { dev: true })
  const printed: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write
  try {
    await kronus.messaging.send({ to: TO, text: 'dev text' })
    await kronus.queue.drain()
  } finally {
    process.stdout.write = write
  }
  t.same(fake.requests, [], 'Twilio is never called')
  t.same(printed, [`[kronus dev] text to ${TO}:\ndev text\n`])
  t.match(await messageEvents(kronus, 'message.sent'), [{ channel: 'console' }])
})

t.test('in dev mode the plugin needs no credentials', async (t) => {
  const kronus = await buildKronus(t, { config: { dev: true, twilio: {}, plugins: [twilioSms()] } as never })
  t.ok(kronus.messaging.defaultChannel?.name === 'console')
})

t.test('handled inbound MessageSids are pruned after keepInboundDays', async (t) => {
  const { kronus } = await buildSmsKronus(t, { twilio: { keepInboundDays: 2 } })
  const now = kronus.clock.now()
  const day = 24 * 3600_000
  await kronus.knex('inbound_messages').insert([
    {
      channel: 'twilio',
      message_id: 'SMold',
      user_id: null,
      reply: null,
      handled_at: now - 3 * day,
      created_at: now - 3 * day
    },
    { channel: 'twilio', message_id: 'SMnew', user_id: null, reply: null, handled_at: now - day, created_at: now - day }
  ])
  await kronus.queue.enqueue('twilio-sms.prune_inbound', { keepDays: 2 })
  await kronus.queue.drain()
  t.same(
    (await kronus.knex('inbound_messages').select('message_id')).map((r: any) => r.message_id),
    ['SMnew']
  )
  const schedule = await kronus.knex('cron_schedules').where({ name: 'twilio-sms.prune_inbound' }).first()
  t.same(JSON.parse(schedule.payload), { keepDays: 2 }, 'pruning runs daily on its own')
})
