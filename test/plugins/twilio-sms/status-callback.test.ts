import t from 'tap'
import twilio from 'twilio'
import { twilioCanReach } from '../../../plugins/twilio-sms/index.js'
import { TwilioSmsTransport } from '../../../plugins/twilio-sms/transport.js'
import { FakeTwilioApi, TWILIO_FAILURES } from '../../fakes/twilio-api.js'
import type { TestKronus } from '../../helpers/app.js'
import { createAdmin, createUser } from '../../helpers/http.js'
import { ACCOUNT_SID, AUTH_TOKEN, buildSmsKronus, SERVICE_SID } from './sms-kronus.js'

const STATUS_URL = 'https://kronus.example/webhook/sms/status'
const CONTACT = '+15557770001'

type ReceiptEvent = 'message.delivered' | 'message.undelivered'

async function receipts(kronus: TestKronus, type: ReceiptEvent) {
  return (await kronus.events.list({ type })).map((e) => e.payload)
}

/** Sends one text through Kronus (and the real SDK to the fake) and returns its MessageSid. */
async function sendText(kronus: TestKronus, message: { to: string; userId?: number; ref?: string }): Promise<string> {
  await kronus.messaging.send({ text: 'Kronus alert: Ann said N.', ...message })
  await kronus.queue.drain()
  const sent = (await kronus.events.list({ type: 'message.sent' })).map((e) => e.payload)
  const last = sent.at(-1)
  if (!last?.messageId) throw new Error('the text was not sent')
  return last.messageId
}

function statusForm(fields: Record<string, string>): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    From: '+15550009999',
    MessagingServiceSid: SERVICE_SID,
    ...fields
  }
}

async function postStatus(
  kronus: TestKronus,
  form: Record<string, string>,
  signature: string | null = twilio.getExpectedTwilioSignature(AUTH_TOKEN, STATUS_URL, form)
) {
  return kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms/status',
    payload: new URLSearchParams(form).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature })
    }
  })
}

t.test('every text asks Twilio for its receipt at the status webhook', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT })
  t.equal(fake.requests[0]!.form.get('StatusCallback'), STATUS_URL)
  t.equal(fake.statusCallbackOf(sid), STATUS_URL)
})

t.test('the StatusCallback follows publicUrl, with its path prefix', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { publicUrl: 'https://example.org/kronus/' })
  const sid = await sendText(kronus, { to: CONTACT })
  t.equal(fake.statusCallbackOf(sid), 'https://example.org/kronus/webhook/sms/status')
  const post = await fake.reportStatus(sid, 'delivered')
  t.equal(post.status, 204, 'and a receipt posted there is taken')
  t.equal((await receipts(kronus, 'message.delivered')).length, 1)
})

t.test("delivered: message.delivered with the text's ref and user", async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Ann' })
  const sid = await sendText(kronus, { to: CONTACT, userId: user.id, ref: 'alarm-contact:5' })
  const post = await fake.reportStatus(sid, 'delivered')
  t.equal(post.status, 204)
  t.same(await receipts(kronus, 'message.delivered'), [
    { to: CONTACT, userId: user.id, channel: 'twilio', messageId: sid, ref: 'alarm-contact:5' }
  ])
  t.same(await receipts(kronus, 'message.undelivered'), [])
})

t.test('undelivered and failed: message.undelivered with the code and what it means', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const cases: Array<[string, 'undelivered' | 'failed', number, RegExp]> = [
    ['alarm-contact:1', 'undelivered', 30003, /unreachable/],
    ['alarm-contact:2', 'undelivered', 30005, /unknown or no longer in service/],
    ['alarm-contact:3', 'undelivered', 30006, /landline/],
    ['alarm-contact:4', 'undelivered', 30007, /filtered/],
    ['alarm-contact:5', 'failed', 30008, /unknown delivery error/],
    ['alarm-contact:6', 'undelivered', 30036, /validity period/],
    ['alarm-contact:7', 'failed', 30999, /Twilio error 30999.*twilio\.com\/docs\/api\/errors/]
  ]
  for (const [ref, status, code] of cases) {
    const sid = await sendText(kronus, { to: CONTACT, ref })
    t.equal((await fake.reportStatus(sid, status, code)).status, 204, `${status} ${code}`)
  }
  const recorded = (await receipts(kronus, 'message.undelivered')) as Array<{
    ref: string
    status: string
    errorCode: number
    error: string
    channel: string
    to: string
  }>
  t.equal(recorded.length, cases.length)
  for (const [ref, status, code, meaning] of cases) {
    const event = recorded.find((e) => e.ref === ref)!
    t.match(event, { status, errorCode: code, channel: 'twilio', to: CONTACT }, ref)
    t.match(event.error, meaning, `${code} in words`)
    t.match(event.error, String(code))
  }
})

t.test('a receipt that blames the account (30034, 30002) degrades Kronus until a text is delivered', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const conditions = async () => (await kronus.watchdog.conditions()).map((c) => c.condition)
  const first = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:1' })
  await fake.reportStatus(first, 'undelivered', 30003)
  t.same(await conditions(), [], "an unreachable phone is that person's, not the account's")
  const blocked = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:3' })
  await fake.reportStatus(blocked, 'undelivered', 30034)
  t.same(await conditions(), ['account:twilio'])
  t.match((await kronus.watchdog.conditions())[0]!.reason, /30034.*not registered for A2P 10DLC/)
  const second = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:2' })
  t.same(await conditions(), ['account:twilio'], 'Twilio accepting a text cures nothing: it may not be delivered')
  await fake.reportStatus(second, 'delivered')
  t.same(await conditions(), [])
})

t.test('undelivered without an error code is still recorded, saying so', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:1' })
  await fake.reportStatus(sid, 'undelivered')
  t.match(await receipts(kronus, 'message.undelivered'), [
    { messageId: sid, errorCode: null, error: 'undelivered (Twilio gave no error code)' }
  ])
})

t.test('the steps on the way (queued, sending, sent, accepted...) are acknowledged and ignored', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:1' })
  for (const status of ['accepted', 'queued', 'sending', 'sent', 'scheduled', 'read', 'something-new']) {
    const res = await postStatus(kronus, statusForm({ MessageSid: sid, MessageStatus: status, To: CONTACT }))
    t.equal(res.statusCode, 204, status)
  }
  t.same(await receipts(kronus, 'message.delivered'), [])
  t.same(await receipts(kronus, 'message.undelivered'), [])
  t.equal((await fake.reportStatus(sid, 'sent')).status, 204)
})

t.test('a callback Twilio repeats is recorded once; another status of the same text is its own', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:1' })
  for (let i = 0; i < 3; i++) t.equal((await fake.reportStatus(sid, 'undelivered', 30003)).status, 204)
  await Promise.all([fake.reportStatus(sid, 'delivered'), fake.reportStatus(sid, 'delivered')])
  t.equal((await receipts(kronus, 'message.undelivered')).length, 1, 'three undelivered posts, one event')
  t.equal((await receipts(kronus, 'message.delivered')).length, 1, 'two concurrent delivered posts, one event')
})

t.test('an unsigned or wrongly signed callback is 401 and nothing is recorded', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT, ref: 'alarm-contact:1' })
  const form = statusForm({ MessageSid: sid, MessageStatus: 'delivered', To: CONTACT })
  const attempts: Array<[string, string | null]> = [
    ['no signature', null],
    ['empty signature', ''],
    ['another token', twilio.getExpectedTwilioSignature('not-the-token', STATUS_URL, form)],
    ['another URL', twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://kronus.example/webhook/sms', form)],
    ['other fields', twilio.getExpectedTwilioSignature(AUTH_TOKEN, STATUS_URL, { ...form, MessageStatus: 'failed' })]
  ]
  for (const [what, signature] of attempts) {
    const res = await postStatus(kronus, form, signature)
    t.equal(res.statusCode, 401, what)
  }
  const bad = await postStatus(kronus, { MessageSid: 'x' }, null)
  t.equal(bad.statusCode, 401, 'a bad form unsigned is 401 too: nothing is read before the signature')
  t.same(await receipts(kronus, 'message.delivered'), [])
})

t.test('a bad form is a 400 naming the field, never a 500', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT })
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['no MessageSid', { MessageStatus: 'delivered', To: CONTACT }, /MessageSid/],
    ['MessageSid not a SID', { MessageSid: `${sid}x`, MessageStatus: 'delivered', To: CONTACT }, /MessageSid/],
    ['no MessageStatus', { MessageSid: sid, To: CONTACT }, /MessageStatus/],
    ['no To', { MessageSid: sid, MessageStatus: 'delivered' }, /To/],
    [
      'ErrorCode not a number',
      { MessageSid: sid, MessageStatus: 'failed', To: CONTACT, ErrorCode: 'abc' },
      /ErrorCode/
    ],
    ['control characters', { MessageSid: sid, MessageStatus: 'failed', To: `${CONTACT}\u0000` }, /To/]
  ]
  for (const [what, fields, field] of cases) {
    const res = await postStatus(kronus, statusForm(fields))
    t.equal(res.statusCode, 400, what)
    t.match(res.payload, field, `${what}: names the field`)
  }
  const json = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms/status',
    payload: { MessageSid: sid },
    headers: { 'x-twilio-signature': 'x' }
  })
  t.equal(json.statusCode, 415, 'only form posts')
  t.same(await receipts(kronus, 'message.undelivered'), [])
})

t.test('a receipt for a text Kronus has no record of is recorded without a ref', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const sid = `SM${'f'.repeat(32)}`
  const res = await postStatus(kronus, statusForm({ MessageSid: sid, MessageStatus: 'delivered', To: CONTACT }))
  t.equal(res.statusCode, 204)
  t.same(await receipts(kronus, 'message.delivered'), [
    { to: CONTACT, userId: null, channel: 'twilio', messageId: sid, ref: null }
  ])
})

t.test('handled callbacks are pruned with handled inbound texts', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const sid = await sendText(kronus, { to: CONTACT })
  await fake.reportStatus(sid, 'delivered')
  t.equal((await kronus.knex('inbound_messages').where({ channel: 'twilio-status' })).length, 1)
  kronus.clock.advanceMinutes(31 * 24 * 60)
  await kronus.queue.enqueue('twilio-sms.prune_inbound', { keepDays: 30 })
  await kronus.queue.drain()
  t.same(await kronus.knex('inbound_messages').where({ channel: 'twilio-status' }), [])
})

t.test('a publicUrl Twilio cannot reach gets no StatusCallback: the texts go all the same', async (t) => {
  for (const publicUrl of [
    'http://localhost:3900',
    'http://127.0.0.1:3900',
    'http://192.168.1.20',
    'http://[::1]:3900'
  ]) {
    const { kronus, fake } = await buildSmsKronus(t, { publicUrl })
    await sendText(kronus, { to: CONTACT })
    t.equal(fake.messages.length, 1, publicUrl)
    t.equal(fake.requests[0]!.form.get('StatusCallback'), null, `${publicUrl}: no StatusCallback`)
  }
})

t.test('which publicUrls Twilio can reach', async (t) => {
  const reachable = [
    'https://kronus.example',
    'kronus.example/base',
    'http://8.8.8.8',
    'https://fdic.example',
    'https://[2001:db8::1]'
  ]
  const unreachable = [
    'http://localhost:3900',
    'http://app.localhost',
    'http://kronus.local',
    'http://127.0.0.1',
    'http://10.1.2.3',
    'http://172.20.0.1',
    'http://192.168.0.9',
    'http://169.254.1.1',
    'http://0.0.0.0:3900',
    'http://[::1]',
    'http://[fd00::1]',
    'http://[fe80::1]',
    'http://'
  ]
  for (const url of reachable) t.equal(twilioCanReach(url), true, url)
  for (const url of unreachable) t.equal(twilioCanReach(url), false, url)
})

t.test('a StatusCallback Twilio refuses (21609) never costs the text: it goes without one', async (t) => {
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })
  t.teardown(() => fake.close())
  const refused: string[] = []
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    client: fake.client().client,
    messagesPerSecond: 1000,
    burst: 10,
    statusCallbackUrl: 'https://bad_host.example/webhook/sms/status',
    onStatusCallbackRefused: (url) => refused.push(url)
  })
  const { messageId } = await transport.send({ to: CONTACT, text: 'alert' })
  t.same(
    fake.requests.map((r) => [r.status, r.form.get('StatusCallback')]),
    [
      [400, 'https://bad_host.example/webhook/sms/status'],
      [201, null]
    ]
  )
  t.equal(messageId, fake.messages[0]!.sid)
  t.same(refused, ['https://bad_host.example/webhook/sms/status'])
  fake.failNext(1, TWILIO_FAILURES.invalidNumber)
  const error = await transport.send({ to: CONTACT, text: 'alert' }).catch((e: unknown) => e)
  t.match(error, { permanent: true, message: /21211/ }, 'other refusals are not retried')
  t.equal(fake.requests.length, 3)
})
