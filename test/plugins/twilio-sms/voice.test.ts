import t from 'tap'
import twilio from 'twilio'
import { TwilioSmsTransport, toDeliveryError } from '../../../plugins/twilio-sms/transport.js'
import { voiceAlertTwiml } from '../../../plugins/twilio-sms/twiml.js'
import { FakeClock } from '../../../src/clock.js'
import { MessageDeliveryError } from '../../../src/messaging/channel.js'
import { FakeTwilioApi, TWILIO_FAILURES } from '../../fakes/twilio-api.js'
import type { TestKronus } from '../../helpers/app.js'
import { ManualTimers } from './manual-timers.js'
import { ACCOUNT_SID, AUTH_TOKEN, buildSmsKronus, SERVICE_SID } from './sms-kronus.js'

const CALLER = '+15550008888'
const CONTACT = '+15557770002'
const GATHER_URL = 'https://kronus.example/webhook/voice/gather'
const ALERT = {
  to: CONTACT,
  say: 'Kronus alert for Sam: Ann said she is not OK & needs "help" <now>.',
  prompt: 'Press 1 if you will check on Ann.',
  ref: 'alarm-contact:12'
}

interface Teardown {
  teardown(fn: () => unknown): void
}

async function transportOnFake(t: Teardown, callerNumber: string | null = CALLER) {
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN })
  t.teardown(() => fake.close())
  const { client } = fake.client()
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    client,
    messagesPerSecond: 1000,
    burst: 100,
    voice: {
      callerNumber,
      gatherUrl: (ref) => `${GATHER_URL}?ref=${encodeURIComponent(ref)}`,
      statusCallbackUrl: 'https://kronus.example/webhook/voice/status',
      callsPerSecond: 100
    }
  })
  return { fake, transport }
}

async function deliveryError(promise: Promise<unknown>): Promise<MessageDeliveryError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof MessageDeliveryError) return error
    throw error
  }
  throw new Error('expected the call to fail')
}

async function payloads(kronus: TestKronus, type: 'call.placed' | 'call.failed' | 'call.answered') {
  return (await kronus.events.list({ type })).map((e) => e.payload)
}

/** Queues a call through messaging and runs the queue until it is done. */
async function placeCall(kronus: TestKronus, call: Partial<typeof ALERT> = {}) {
  await kronus.messaging.call({ ...ALERT, ...call })
  for (let i = 0; i < 6; i++) {
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(60)
  }
}

t.test("a call's TwiML says the alert and gathers one key for the Gather webhook, escaped", async (t) => {
  const twiml = voiceAlertTwiml({
    say: ALERT.say,
    prompt: ALERT.prompt,
    gatherAction: `${GATHER_URL}?ref=alarm-contact%3A12&x=1`
  })
  t.equal(
    twiml,
    '<?xml version="1.0" encoding="UTF-8"?><Response>' +
      '<Say>Kronus alert for Sam: Ann said she is not OK &amp; needs &quot;help&quot; &lt;now&gt;.</Say>' +
      '<Gather input="dtmf" numDigits="1" timeout="8" method="POST" action="https://kronus.example/webhook/voice/gather?ref=alarm-contact%3A12&amp;x=1">' +
      '<Say>Press 1 if you will check on Ann.</Say></Gather>' +
      '<Gather input="dtmf" numDigits="1" timeout="8" method="POST" action="https://kronus.example/webhook/voice/gather?ref=alarm-contact%3A12&amp;x=1">' +
      '<Say>Kronus alert for Sam: Ann said she is not OK &amp; needs &quot;help&quot; &lt;now&gt;.</Say>' +
      '<Say>Press 1 if you will check on Ann.</Say></Gather>' +
      '<Say>Goodbye.</Say></Response>'
  )
})

t.test(
  'a call goes through the real SDK to the Calls API with the caller number, TwiML and StatusCallback',
  async (t) => {
    const { fake, transport } = await transportOnFake(t)
    const { callId } = await transport.call(ALERT)
    t.equal(fake.calls.length, 1)
    const call = fake.calls[0]!
    t.equal(callId, call.resource.sid)
    t.match(callId, /^CA[0-9a-f]{32}$/)
    const form = Object.fromEntries(fake.requests[0]!.form)
    t.same(Object.keys(form).sort(), ['From', 'StatusCallback', 'StatusCallbackMethod', 'To', 'Twiml'])
    t.equal(form.To, CONTACT)
    t.equal(form.From, CALLER)
    t.equal(form.StatusCallback, 'https://kronus.example/webhook/voice/status')
    t.equal(
      form.Twiml,
      voiceAlertTwiml({ say: ALERT.say, prompt: ALERT.prompt, gatherAction: `${GATHER_URL}?ref=alarm-contact%3A12` })
    )
    t.match(fake.twimlOf(callId!), /action="https:\/\/kronus\.example\/webhook\/voice\/gather\?ref=alarm-contact%3A12"/)
    t.equal(fake.messages.length, 0)
  }
)

t.test('call errors: invalid or forbidden numbers are permanent, 5xx, 429 and the network are not', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  for (const failure of [
    TWILIO_FAILURES.invalidNumber,
    TWILIO_FAILURES.forbiddenNumber,
    TWILIO_FAILURES.geoPermission,
    TWILIO_FAILURES.highRisk
  ]) {
    fake.failNext(1, failure)
    const error = await deliveryError(transport.call(ALERT))
    t.equal(error.permanent, true, String(failure.code))
    t.match(error.message, new RegExp(`Twilio rejected the call \\(HTTP 400 code ${failure.code}, `))
  }
  const invalid = await deliveryError(transport.call({ ...ALERT, to: 'not a number' }))
  t.equal(invalid.permanent, true, 'a number Twilio itself finds invalid (21211)')
  for (const failure of [TWILIO_FAILURES.serverError, TWILIO_FAILURES.rateLimited]) {
    fake.failNext(1, failure)
    const error = await deliveryError(transport.call(ALERT))
    t.equal(error.permanent, false, String(failure.code))
  }
  t.equal(fake.calls.length, 0)
  await fake.close()
  const down = await deliveryError(transport.call(ALERT))
  t.equal(down.permanent, false)
  t.match(down.message, /Twilio call request failed \(ECONNREFUSED\)/)
})

t.test('call error classification, beside the texts', async (t) => {
  const rest = (status: number, code?: number) => Object.assign(new Error('twilio says no'), { status, code })
  for (const code of [13224, 13225, 13227, 21210, 21211, 21212, 21213, 21214, 21215, 21216, 21217, 21219]) {
    t.equal(toDeliveryError(rest(400, code), 'call').permanent, true, `call ${code}`)
  }
  t.equal(toDeliveryError(rest(400, 21216)).permanent, false, 'a call code means nothing for a text')
  t.equal(toDeliveryError(rest(400, 21610), 'call').permanent, false, 'nor a text code for a call')
  t.equal(toDeliveryError(rest(503, 13225), 'call').permanent, false, 'a permanent code on a 5xx is not trusted')
  t.equal(toDeliveryError(rest(401, 20003), 'call').permanent, false)
})

t.test('without a caller number a call fails at once, naming the setting; texts still go', async (t) => {
  const { fake, transport } = await transportOnFake(t, null)
  const error = await deliveryError(transport.call(ALERT))
  t.equal(error.permanent, true)
  t.match(error.message, /twilio\.callerNumber \(or TWILIO_CALLER_NUMBER\)/)
  t.equal(fake.requests.length, 0, 'nothing asked of Twilio')
  await transport.send({ to: CONTACT, text: 'still texting' })
  t.equal(fake.messages.length, 1)
})

t.test('words too long for inline TwiML fail the call permanently before Twilio is asked', async (t) => {
  const { fake, transport } = await transportOnFake(t)
  const error = await deliveryError(transport.call({ ...ALERT, say: 'x'.repeat(4000) }))
  t.equal(error.permanent, true)
  t.match(error.message, /too long/)
  t.equal(fake.requests.length, 0)
})

t.test('a queued call is placed through Twilio and recorded as call.placed with its CallSid and ref', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  await placeCall(kronus)
  t.equal(fake.calls.length, 1)
  t.equal(fake.calls[0]!.resource.from, CALLER)
  t.match(fake.twimlOf(fake.calls[0]!.resource.sid), /<Say>Press 1 if you will check on Ann\.<\/Say>/)
  t.same(await payloads(kronus, 'call.placed'), [
    { to: CONTACT, userId: null, channel: 'twilio', ref: 'alarm-contact:12', callId: fake.calls[0]!.resource.sid }
  ])
})

t.test('the caller number comes from twilio.callerNumber of the configuration too', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, {
    twilioConfig: {
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      messagingServiceSid: SERVICE_SID,
      callerNumber: '+15550007777'
    }
  })
  await placeCall(kronus)
  t.equal(fake.calls[0]!.resource.from, '+15550007777')
})

t.test('a caller number that is no phone number is a boot error', async (t) => {
  await t.rejects(buildSmsKronus(t, { twilio: { callerNumber: 'MG123' } }), /callerNumber.*E\.164/)
  await t.rejects(
    buildSmsKronus(t, {
      twilioConfig: {
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        messagingServiceSid: SERVICE_SID,
        callerNumber: '555'
      }
    }),
    /callerNumber.*E\.164/
  )
})

t.test('a call Twilio refuses for good is call.failed, permanent, tried once', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  fake.failNext(1, TWILIO_FAILURES.forbiddenNumber)
  await placeCall(kronus)
  t.equal(fake.requests.length, 1, 'not retried')
  t.match(await payloads(kronus, 'call.failed'), [
    { to: CONTACT, channel: 'twilio', ref: 'alarm-contact:12', permanent: true, error: /13225/ }
  ])
  t.same(await payloads(kronus, 'call.placed'), [])
})

t.test('a call that meets a Twilio 5xx is retried and placed once', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  fake.failNext(2, TWILIO_FAILURES.serverError)
  await placeCall(kronus)
  t.same(
    fake.requests.map((r) => r.status),
    [500, 500, 201]
  )
  t.equal((await payloads(kronus, 'call.placed')).length, 1)
  t.same(await payloads(kronus, 'call.failed'), [])
})

t.test('without a caller number a queued call ends as call.failed naming the setting', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  await placeCall(kronus)
  t.equal(fake.requests.length, 0)
  t.match(await payloads(kronus, 'call.failed'), [{ permanent: true, error: /twilio\.callerNumber/ }])
})

t.test('a key pressed comes back signed with the ref: call.answered, and the answer is said', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  const heard: unknown[] = []
  kronus.messaging.onCallAnswer((answer) => {
    heard.push(answer)
    return answer.digits === '1' ? 'Thank you. Ann knows you are on your way.' : null
  })
  await placeCall(kronus)
  const callSid = fake.calls[0]!.resource.sid
  const pressed = await fake.pressDigits(callSid, '1')
  t.equal(pressed.url, `${GATHER_URL}?ref=alarm-contact%3A12`)
  t.equal(pressed.status, 200)
  t.equal(
    pressed.body,
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you. Ann knows you are on your way.</Say><Hangup/></Response>'
  )
  const answer = { channel: 'twilio', to: CONTACT, callId: callSid, ref: 'alarm-contact:12', digits: '1' }
  t.same(heard, [answer])
  t.same(await payloads(kronus, 'call.answered'), [answer])

  const other = await fake.pressDigits(callSid, '7')
  t.equal(
    other.body,
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you. Goodbye.</Say><Hangup/></Response>',
    'no handler answered: a goodbye'
  )
  t.equal((await payloads(kronus, 'call.answered')).length, 2)
})

t.test('an unsigned or forged key press is 401 and nobody hears of it', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  await placeCall(kronus)
  const form = {
    AccountSid: ACCOUNT_SID,
    CallSid: fake.calls[0]!.resource.sid,
    To: CONTACT,
    From: CALLER,
    Digits: '1'
  }
  const signedFor = (url: string) => twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, form)
  const attempts: Array<[string, string, string | null]> = [
    ['no signature', '/webhook/voice/gather?ref=alarm-contact%3A12', null],
    [
      'another token',
      '/webhook/voice/gather?ref=alarm-contact%3A12',
      twilio.getExpectedTwilioSignature('nope', `${GATHER_URL}?ref=alarm-contact%3A12`, form)
    ],
    [
      'another ref than signed',
      '/webhook/voice/gather?ref=alarm-contact%3A99',
      signedFor(`${GATHER_URL}?ref=alarm-contact%3A12`)
    ],
    ['ref dropped', '/webhook/voice/gather', signedFor(`${GATHER_URL}?ref=alarm-contact%3A12`)]
  ]
  for (const [what, url, signature] of attempts) {
    const res = await kronus.server.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(signature === null ? {} : { 'x-twilio-signature': signature })
      }
    })
    t.equal(res.statusCode, 401, what)
  }
  t.same(await payloads(kronus, 'call.answered'), [])
})

t.test('a bad key press is a 400 naming the field', async (t) => {
  const { kronus } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  const base = { AccountSid: ACCOUNT_SID, CallSid: `CA${'1'.repeat(32)}`, To: CONTACT, From: CALLER, Digits: '1' }
  const cases: Array<[string, string, Record<string, string | undefined>, RegExp]> = [
    ['no Digits', '?ref=a', { Digits: undefined }, /Digits/],
    ['Digits not keys', '?ref=a', { Digits: 'one' }, /Digits/],
    ['no CallSid', '?ref=a', { CallSid: undefined }, /CallSid/],
    ['no To', '?ref=a', { To: undefined }, /To/],
    ['ref too long', `?ref=${'r'.repeat(161)}`, {}, /ref/],
    ['two refs', '?ref=a&ref=b', {}, /ref/]
  ]
  for (const [what, query, change, field] of cases) {
    const form = Object.fromEntries(
      Object.entries({ ...base, ...change }).filter((entry): entry is [string, string] => entry[1] !== undefined)
    )
    const res = await kronus.server.inject({
      method: 'POST',
      url: `/webhook/voice/gather${query}`,
      payload: new URLSearchParams(form).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${GATHER_URL}${query}`, form)
      }
    })
    t.equal(res.statusCode, 400, what)
    t.match(res.payload, field, `${what}: names the field`)
  }
  t.same(await payloads(kronus, 'call.answered'), [])
})

t.test('how a call ended is taken, signed, at the voice status webhook', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, { twilio: { callerNumber: CALLER } })
  await placeCall(kronus)
  const callSid = fake.calls[0]!.resource.sid
  t.equal((await fake.endCall(callSid, 'no-answer')).status, 204)
  t.equal((await fake.endCall(callSid, 'completed')).status, 204)
  const unsigned = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/voice/status',
    payload: new URLSearchParams({ CallSid: callSid, CallStatus: 'completed' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(unsigned.statusCode, 401)
})

t.test('behind a path prefix the Gather URL follows publicUrl and its key press is taken', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t, {
    publicUrl: 'https://example.org/kronus/',
    twilio: { callerNumber: CALLER }
  })
  kronus.messaging.onCallAnswer(() => 'Noted.')
  await placeCall(kronus)
  const callSid = fake.calls[0]!.resource.sid
  t.match(
    fake.twimlOf(callSid),
    /action="https:\/\/example\.org\/kronus\/webhook\/voice\/gather\?ref=alarm-contact%3A12"/
  )
  t.equal(fake.calls[0]!.statusCallback, 'https://example.org/kronus/webhook/voice/status')
  const pressed = await fake.pressDigits(callSid, '1')
  t.equal(pressed.status, 200)
  t.match(pressed.body, /<Say>Noted\.<\/Say>/)
  t.equal((await payloads(kronus, 'call.answered')).length, 1)
})

t.test('calls are paced apart from texts, under callsPerSecond', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const placedAt: number[] = []
  const sentAt: number[] = []
  const transport = new TwilioSmsTransport({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    messagingServiceSid: SERVICE_SID,
    messagesPerSecond: 10,
    burst: 10,
    clock,
    sleep: timers.sleep,
    voice: { callerNumber: CALLER, gatherUrl: (ref) => `${GATHER_URL}?ref=${ref}`, callsPerSecond: 1 },
    client: {
      messages: {
        create: async () => {
          sentAt.push(clock.now())
          return { sid: `SM${'0'.repeat(32)}` }
        },
        list: async () => []
      },
      calls: {
        create: async () => {
          placedAt.push(clock.now())
          return { sid: `CA${'0'.repeat(32)}` }
        }
      }
    }
  })
  await timers.runUntilSettled(
    Promise.all([
      transport.call(ALERT),
      transport.call(ALERT),
      transport.call(ALERT),
      transport.send({ to: CONTACT, text: 'a' }),
      transport.send({ to: CONTACT, text: 'b' })
    ])
  )
  t.same(placedAt, [0, 1000, 2000], 'one call a second')
  t.same(sentAt, [0, 0], 'texts do not wait behind calls')
})
