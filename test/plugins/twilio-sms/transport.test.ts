import t from 'tap'
import {
  type TwilioMessagesClient,
  TwilioSmsTransport,
  toDeliveryError
} from '../../../plugins/twilio-sms/transport.js'
import { FakeClock } from '../../../src/clock.js'
import { MessageDeliveryError } from '../../../src/messaging/channel.js'
import { FakeTwilioApi, TWILIO_FAILURES } from '../../fakes/twilio-api.js'
import { ManualTimers } from './manual-timers.js'

const ACCOUNT_SID = 'AC' + '3'.repeat(32)
const AUTH_TOKEN = 'transport-test-token'
const SERVICE_SID = 'MG' + 'b'.repeat(32)
const TO = '+15551230000'

interface Teardown {
  teardown(fn: () => unknown): void
}

async function transportOnFake(t: Teardown, extra: { validityPeriodSeconds?: number } = {}) {
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })
  t.teardown(() => fake.close())
  const { client, http } = fake.client()
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    client,
    // Pacing is covered separately; a high rate keeps these tests free of sleeps.
    messagesPerSecond: 1000,
    burst: 100,
    ...extra
  })
  return { fake, transport, http }
}

async function deliveryError(promise: Promise<unknown>): Promise<MessageDeliveryError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof MessageDeliveryError) return error
    throw error
  }
  throw new Error('expected the send to fail')
}

t.test('a send reaches Twilio through the real SDK with the fields Kronus relies on', async (t) => {
  const { fake, transport, http } = await transportOnFake(t)
  const result = await transport.send({ to: TO, text: 'Kronus: are you OK? (Y/N)' })

  t.equal(transport.name, 'twilio')
  t.equal(fake.requests.length, 1)
  const request = fake.requests[0]!
  t.equal(request.status, 201)
  t.equal(request.method, 'POST')
  t.equal(request.path, `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`)
  t.same(request.basicAuth, { username: ACCOUNT_SID, password: AUTH_TOKEN })
  t.match(request.contentType, /^application\/x-www-form-urlencoded/)
  t.same(Object.fromEntries(request.form), {
    To: TO,
    Body: 'Kronus: are you OK? (Y/N)',
    MessagingServiceSid: SERVICE_SID,
    ValidityPeriod: '3600'
  })
  t.same(http.intendedUris, [`https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`])
  t.equal(result.messageId, fake.messages[0]!.sid)
  t.match(result.messageId, /^SM[0-9a-f]{32}$/)
})

t.test('the configured ValidityPeriod is sent', async (t) => {
  const { fake, transport } = await transportOnFake(t, { validityPeriodSeconds: 600 })
  await transport.send({ to: TO, text: 'hi' })
  t.equal(fake.requests[0]!.form.get('ValidityPeriod'), '600')
})

t.test('ValidityPeriod outside what Twilio allows is refused at construction', async (t) => {
  for (const validityPeriodSeconds of [0, 36_001, 1.5, Number.NaN]) {
    t.throws(
      () =>
        new TwilioSmsTransport({
          accountSid: ACCOUNT_SID,
          authToken: AUTH_TOKEN,
          messagingServiceSid: SERVICE_SID,
          validityPeriodSeconds
        }),
      RangeError,
      String(validityPeriodSeconds)
    )
  }
  t.equal(
    new TwilioSmsTransport({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      messagingServiceSid: SERVICE_SID,
      validityPeriodSeconds: 36_000
    }).validityPeriodSeconds,
    36_000
  )
})

t.test('invalid number (21211) is a permanent failure', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  fake.failNext(1, TWILIO_FAILURES.invalidNumber)
  const error = await deliveryError(transport.send({ to: TO, text: 'hi' }))
  t.equal(error.permanent, true)
  t.match(error.message, /21211/)
  t.equal(fake.requests.length, 1, 'the transport itself does not retry')
})

t.test('a To number Twilio itself rejects as invalid is permanent', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  const error = await deliveryError(transport.send({ to: '555-not-e164', text: 'hi' }))
  t.equal(fake.requests[0]!.status, 400)
  t.equal(error.permanent, true)
  t.match(error.message, /21211/)
})

t.test('opted out (21610) is a permanent failure', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  fake.failNext(1, TWILIO_FAILURES.optedOut)
  const error = await deliveryError(transport.send({ to: TO, text: 'hi' }))
  t.equal(error.permanent, true)
  t.match(error.message, /21610/)
})

t.test('429 and 500 are retryable, and the next attempt goes through', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  fake.failNext(1, TWILIO_FAILURES.rateLimited)
  fake.failNext(1, TWILIO_FAILURES.serverError)
  const tooMany = await deliveryError(transport.send({ to: TO, text: 'hi' }))
  t.equal(tooMany.permanent, false)
  t.match(tooMany.message, /HTTP 429/)
  const serverError = await deliveryError(transport.send({ to: TO, text: 'hi' }))
  t.equal(serverError.permanent, false)
  t.match(serverError.message, /HTTP 500/)
  const retried = await transport.send({ to: TO, text: 'hi' })
  t.match(retried.messageId, /^SM/)
  t.same(
    fake.requests.map((r) => r.status),
    [429, 500, 201]
  )
})

t.test('an unreachable API is retryable', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  await fake.close()
  const error = await deliveryError(transport.send({ to: TO, text: 'hi' }))
  t.equal(error.permanent, false)
  t.match(error.message, /ECONNREFUSED/)
})

t.test('error classification', async (t) => {
  const rest = (status: number, code?: number) => Object.assign(new Error('twilio says no'), { status, code })
  t.equal(toDeliveryError(rest(400, 21614)).permanent, true, 'not a mobile number')
  t.equal(toDeliveryError(rest(400, 21408)).permanent, true, 'region not enabled')
  t.equal(toDeliveryError(rest(400, 21603)).permanent, false, 'a config error may be fixed before the retries run out')
  t.equal(toDeliveryError(rest(401, 20003)).permanent, false, 'bad credentials')
  t.equal(toDeliveryError(rest(400)).permanent, false, '4xx without a Twilio code')
  t.equal(toDeliveryError(rest(503, 21211)).permanent, false, 'a permanent code on a 5xx is not trusted')
  const timeout = Object.assign(new Error('timeout of 15000ms exceeded'), { code: 'ECONNABORTED' })
  const timedOut = toDeliveryError(timeout)
  t.equal(timedOut.permanent, false, 'timeout')
  t.match(timedOut.message, /ECONNABORTED/)
  t.equal(timedOut.cause, timeout, 'the original error is kept for logs')
  t.equal(toDeliveryError('a string').permanent, false)
})

t.test(
  'refusals of the account itself are account-level (the watchdog says degraded at once) and still retried',
  async (t) => {
    const rest = (status: number, code?: number) => Object.assign(new Error('twilio says no'), { status, code })
    const auth = toDeliveryError(rest(401, 20003))
    t.same([auth.accountLevel, auth.permanent], [true, false], 'authentication failed')
    t.match(auth.message, /20003, authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN/)
    const inactive = toDeliveryError(rest(401, 20005))
    t.same([inactive.accountLevel, inactive.permanent], [true, false], 'account not active')
    t.match(inactive.message, /suspended or closed/)
    t.equal(toDeliveryError(rest(400, 21614)).accountLevel, false, "one number's problem is not the account's")
    t.equal(toDeliveryError(rest(503)).accountLevel, false)
  }
)

function recordingClient(clock: FakeClock) {
  const sentAt: number[] = []
  const client: TwilioMessagesClient = {
    messages: {
      create: async () => {
        sentAt.push(clock.now())
        return { sid: `SM${String(sentAt.length).padStart(32, '0')}` }
      },
      list: async () => []
    }
  }
  return { client, sentAt }
}

t.test('sends are paced under the configured rate', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const { client, sentAt } = recordingClient(clock)
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    messagesPerSecond: 2,
    client,
    clock,
    sleep: timers.sleep
  })

  const burst = Promise.all([1, 2, 3, 4].map((n) => transport.send({ to: TO, text: `m${n}` })))
  await timers.runUntilSettled(burst)
  t.same(sentAt, [0, 500, 1000, 1500], 'four sends requested at once go out 500 ms apart')

  clock.advance(10_000)
  const start = clock.now()
  await timers.runUntilSettled(
    Promise.all([transport.send({ to: TO, text: 'a' }), transport.send({ to: TO, text: 'b' })])
  )
  t.same(sentAt.slice(4), [start, start + 500], 'after a quiet spell the first send is immediate, not a backlog burst')
})

t.test('a burst allowance lets that many sends out back to back', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const { client, sentAt } = recordingClient(clock)
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    messagesPerSecond: 1,
    burst: 3,
    client,
    clock,
    sleep: timers.sleep
  })
  await timers.runUntilSettled(Promise.all([1, 2, 3, 4, 5].map(() => transport.send({ to: TO, text: 'x' }))))
  t.same(sentAt, [0, 0, 0, 1000, 2000])
})

t.test('a failed send still uses its slot, so failures cannot speed up the rate', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const attempts: number[] = []
  const client: TwilioMessagesClient = {
    messages: {
      create: async () => {
        attempts.push(clock.now())
        throw Object.assign(new Error('busy'), { status: 429, code: 20429 })
      },
      list: async () => []
    }
  }
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    messagesPerSecond: 4,
    client,
    clock,
    sleep: timers.sleep
  })
  const results = await timers.runUntilSettled(
    Promise.allSettled([1, 2, 3].map(() => transport.send({ to: TO, text: 'x' })))
  )
  t.same(attempts, [0, 250, 500])
  t.ok(results.every((r) => r.status === 'rejected' && r.reason instanceof MessageDeliveryError && !r.reason.permanent))
})

t.test('reconcile lists, through the SDK, the texts Twilio took for that number and body since a time', async (t) => {
  let now = Date.UTC(2026, 0, 5, 12)
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, now: () => now })
  t.teardown(() => fake.close())
  const { client } = fake.client()
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    client,
    messagesPerSecond: 1000,
    burst: 100
  })
  const ask = { to: TO, text: 'Are you OK, Ann? (Y/N)' }
  const { messageId: old } = await transport.send(ask)
  now += 3600_000
  const since = now
  for (let i = 0; i < 60; i++) {
    now += 1000
    await transport.send({ to: TO, text: `other ${i}` })
  }
  const { messageId: first } = await transport.send(ask)
  await transport.send({ ...ask, to: '+15551239999' })
  now += 1000
  const { messageId: second } = await transport.send(ask)

  const listed = await transport.reconcile(ask, since)
  t.same(listed, [second, first], 'both texts since then, newest first, across pages; not the one an hour older')
  t.notOk(listed.includes(old!), 'a text older than the send and its clock margin is not listed')
  const lists = fake.requests.filter((r) => r.method === 'GET')
  t.ok(
    lists.every((r) => r.basicAuth?.username === ACCOUNT_SID),
    'with the account credentials'
  )
  t.same(await transport.reconcile({ to: TO, text: 'never sent' }, since), [], 'nothing for a body never sent')

  fake.failNext(1, TWILIO_FAILURES.serverError)
  const error = await deliveryError(transport.reconcile(ask, since))
  t.equal(error.permanent, false, 'a failed list is a passing failure: the text is neither sent nor recorded yet')
})
