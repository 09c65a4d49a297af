import t from 'tap'
import twilio from 'twilio'
import type { TestKronus } from '../../helpers/app.js'
import { createAdmin, createContact, createUser, type TestUser } from '../../helpers/http.js'
import { AUTH_TOKEN, buildSmsKronus, inboundForm, nextMessageSid, postSms, SIGNED_URL } from './sms-kronus.js'

async function userWithPendingProbe(kronus: TestKronus): Promise<TestUser> {
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Grace' })
  await createContact(kronus, user, { is_emergency_contact: true })
  const started = await kronus.probes.start(user.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 30 })
  if (!started.started) throw new Error('probe did not start')
  return user
}

async function received(kronus: TestKronus) {
  return (await kronus.events.list({ type: 'message.received' })).map((e) => e.payload)
}

async function probeStatuses(kronus: TestKronus, userId: number): Promise<number[]> {
  return (await kronus.knex('probes').where({ user_id: userId }).orderBy('id')).map((row: any) =>
    Number(row.probe_status_id)
  )
}

const PENDING = 1
const GOOD = 2
const BAD = 3

t.test('a signed text from a user is recorded and answered in TwiML', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  const messageSid = nextMessageSid()
  const reply = await postSms(kronus, { from: user.phone_number, body: 'maybe <later> & "soon"', messageSid })
  t.equal(reply.statusCode, 200)
  t.equal(reply.contentType, 'text/xml; charset=utf-8')
  t.equal(
    reply.payload,
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply Y if you are OK or N if you need help.</Message></Response>'
  )
  t.same(await received(kronus), [
    {
      from: user.phone_number,
      text: 'maybe <later> & "soon"',
      userId: user.id,
      channel: 'twilio',
      messageId: messageSid
    }
  ])
})

t.test('a missing or wrong signature is 401 and nothing is recorded or changed', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  const attempts = [
    { what: 'no signature header', sms: { signature: null } },
    { what: 'an empty signature', sms: { signature: '' } },
    { what: 'signed with another auth token', sms: { authToken: 'not-the-token' } },
    { what: 'signed for another URL', sms: { signedUrl: 'https://evil.example/webhook/sms' } },
    { what: 'signed for plain http', sms: { signedUrl: 'http://kronus.example/webhook/sms' } },
    { what: 'a garbage signature', sms: { signature: 'bm90IGEgc2lnbmF0dXJl' } }
  ]
  for (const { what, sms } of attempts) {
    const reply = await postSms(kronus, { from: user.phone_number, body: 'N', ...sms })
    t.equal(reply.statusCode, 401, what)
    t.same(JSON.parse(reply.payload), { success: false, errors: ['invalid or missing X-Twilio-Signature'] }, what)
  }

  // A real signature over other fields: Body changed after signing.
  const form = inboundForm({ from: user.phone_number, body: 'Y', messageSid: nextMessageSid() })
  const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, SIGNED_URL, form)
  const tampered = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms',
    payload: new URLSearchParams({ ...form, Body: 'N' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }
  })
  t.equal(tampered.statusCode, 401, 'a tampered Body')

  t.same(await received(kronus), [], 'no message.received for a refused request')
  t.same(await probeStatuses(kronus, user.id), [PENDING], 'the probe is untouched')
})

t.test('publicUrl with or without a trailing slash checks against the same URL', async (t) => {
  for (const publicUrl of ['https://kronus.example', 'https://kronus.example/', 'https://kronus.example//']) {
    const { kronus } = await buildSmsKronus(t, { publicUrl })
    const admin = await createAdmin(kronus)
    const reply = await postSms(kronus, { from: admin.phone_number, body: 'ping' })
    t.equal(reply.statusCode, 200, publicUrl)
    t.same(reply.messages, ['PONG!'], publicUrl)
  }
})

t.test('a local publicUrl with a port works for testing the webhook by hand', async (t) => {
  const { kronus } = await buildSmsKronus(t, { publicUrl: 'http://localhost:3900' })
  const admin = await createAdmin(kronus)
  const reply = await postSms(kronus, {
    from: admin.phone_number,
    body: 'PING',
    signedUrl: 'http://localhost:3900/webhook/sms'
  })
  t.same(reply.messages, ['PONG!'])
})

t.test('a sub-path behind a proxy and a query string on the webhook URL are signed too', async (t) => {
  const { kronus } = await buildSmsKronus(t, { publicUrl: 'https://example.org/kronus/' })
  const admin = await createAdmin(kronus)
  const form = inboundForm({ from: admin.phone_number, body: 'ping', messageSid: nextMessageSid() })
  const signed = 'https://example.org/kronus/webhook/sms?source=twilio'
  const res = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms?source=twilio',
    payload: new URLSearchParams(form).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, signed, form)
    }
  })
  t.equal(res.statusCode, 200)
  t.match(res.payload, '<Message>PONG!</Message>')
})

t.test('an unknown sender gets an empty <Response/>, whatever they text, and never a 500', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  for (const body of ['N', 'Y', 'ping', 'usage', 'probe --in 0', 'STOP', 'START', '', 'hello']) {
    const reply = await postSms(kronus, { from: '+15559990000', body })
    t.equal(reply.statusCode, 200, JSON.stringify(body))
    t.equal(reply.payload, '<?xml version="1.0" encoding="UTF-8"?><Response/>', JSON.stringify(body))
  }
  const unknown = await received(kronus)
  t.equal(unknown.length, 9, 'each text is still recorded')
  t.ok(unknown.every((payload) => payload.userId === null))
  await kronus.queue.drain()
  t.same(
    fake.messages.map((m) => m.to),
    [user.phone_number],
    "only the user's own check-in went out; nothing to the stranger"
  )
  t.same(await probeStatuses(kronus, user.id), [PENDING], "a stranger's N touches nobody's probe")
})

t.test('a retried MessageSid is handled once and answered with the first reply', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  const messageSid = nextMessageSid()
  const first = await postSms(kronus, { from: user.phone_number, body: 'N', messageSid })
  t.same(first.messages, ['We are alerting your emergency contacts now.'])
  t.same(await probeStatuses(kronus, user.id), [BAD])

  const retry = await postSms(kronus, { from: user.phone_number, body: 'N', messageSid })
  t.equal(retry.statusCode, 200)
  t.equal(retry.payload, first.payload, 'the retry gets the very same TwiML')
  const another = await postSms(kronus, { from: user.phone_number, body: 'N' })
  t.same(
    another.messages,
    [
      'Your emergency contacts have been alerted and Kronus keeps asking them. If you need help now, call your local emergency number. Reply OK when you are safe.'
    ],
    'a new text with a new MessageSid is handled anew (the alarm it raised is still open)'
  )

  t.equal((await received(kronus)).length, 2, 'message.received once per MessageSid')
  t.equal((await kronus.events.list({ type: 'emergency.triggered' })).length, 1)
  t.equal((await kronus.events.list({ type: 'probe.reply_received' })).length, 1)
})

t.test('a retry that arrives while the first delivery is still being handled is handled once too', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  const messageSid = nextMessageSid()
  const replies = await Promise.all(
    [1, 2, 3].map(() => postSms(kronus, { from: user.phone_number, body: 'N', messageSid }))
  )
  t.same(
    replies.map((r) => r.statusCode),
    [200, 200, 200]
  )
  t.same(new Set(replies.map((r) => r.payload)).size, 1, 'the same TwiML for all')
  t.same(replies[0]!.messages, ['We are alerting your emergency contacts now.'])
  t.equal((await received(kronus)).length, 1)
  t.equal((await kronus.events.list({ type: 'emergency.triggered' })).length, 1)
})

t.test("a retry of an unknown sender's text is answered empty again", async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const messageSid = nextMessageSid()
  const first = await postSms(kronus, { from: '+15559990001', body: 'ping', messageSid })
  const retry = await postSms(kronus, { from: '+15559990001', body: 'ping', messageSid })
  t.equal(first.payload, '<?xml version="1.0" encoding="UTF-8"?><Response/>')
  t.equal(retry.payload, first.payload)
  t.equal((await received(kronus)).length, 1)
})

t.test('a signed post without From or MessageSid is a 400 naming the field', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  for (const missing of ['From', 'MessageSid']) {
    const form = inboundForm({ from: '+15550001111', body: 'Y', messageSid: nextMessageSid() })
    delete form[missing]
    const res = await kronus.server.inject({
      method: 'POST',
      url: '/webhook/sms',
      payload: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, SIGNED_URL, form)
      }
    })
    t.equal(res.statusCode, 400, missing)
    t.match(JSON.parse(res.payload).errors, [new RegExp(`^${missing} is required`)], missing)
  }
})

t.test('a reply with NUL and other control characters is applied without them, on either database', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const user = await userWithPendingProbe(kronus)
  const first = nextMessageSid()
  const reply = await postSms(kronus, { from: user.phone_number, body: '\u0000Y\u0000\u001b', messageSid: first })
  t.equal(reply.statusCode, 200)
  t.same(await probeStatuses(kronus, user.id), [GOOD], 'the Y is applied')
  const second = nextMessageSid()
  t.equal(
    (await postSms(kronus, { from: user.phone_number, body: 'all\r\nwell\u0007\u009b', messageSid: second }))
      .statusCode,
    200
  )
  t.same(
    (await received(kronus)).map((r: any) => r.text),
    ['Y', 'all well'],
    'recorded without control characters; a line break keeps the words apart'
  )
})

t.test('a signed post whose From or MessageSid holds a control character is a 400 naming the field', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  for (const [name, form] of [
    ['From', inboundForm({ from: '+1555000\u00001111', body: 'Y', messageSid: nextMessageSid() })],
    ['MessageSid', inboundForm({ from: '+15550001111', body: 'Y', messageSid: `${nextMessageSid()}\u0000` })]
  ] as const) {
    const res = await kronus.server.inject({
      method: 'POST',
      url: '/webhook/sms',
      payload: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, SIGNED_URL, form)
      }
    })
    t.equal(res.statusCode, 400, name)
    t.same(JSON.parse(res.payload).errors, [`${name} must not contain control characters`], name)
  }
  t.same(await received(kronus), [])
})

t.test('a body that is not a form post is refused with a 4xx, not a 500', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const res = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms',
    payload: { From: '+1555' },
    headers: { 'x-twilio-signature': 'x' }
  })
  t.equal(res.statusCode, 415)
})

t.test('without an auth token every webhook is refused, even in dev mode', async (t) => {
  const { kronus } = await buildSmsKronus(t, { dev: true, twilioConfig: {} })
  const admin = await createAdmin(kronus)
  // Signed with the token Twilio has; Kronus has none to check it against.
  const reply = await postSms(kronus, { from: admin.phone_number, body: 'ping' })
  t.equal(reply.statusCode, 401)
})
