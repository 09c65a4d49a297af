import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import twilio from 'twilio'
import { FakeTwilioApi, TWILIO_FAILURES } from './twilio-api.js'

const ACCOUNT_SID = 'AC' + '1'.repeat(32)
const AUTH_TOKEN = 'fake-auth-token'
const SERVICE_SID = 'MG' + 'a'.repeat(32)
const MESSAGES_URL_PATH = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`

interface Teardown {
  teardown(fn: () => unknown): void
}

async function startFake(t: Teardown) {
  const fake = await FakeTwilioApi.start({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    now: () => Date.UTC(2026, 0, 5, 12)
  })
  t.teardown(() => fake.close())
  return fake
}

interface TwilioJson {
  code?: number
  status?: number | string
  from?: string | null
  [field: string]: unknown
}

async function json(res: Response): Promise<TwilioJson> {
  return (await res.json()) as TwilioJson
}

function post(
  fake: FakeTwilioApi,
  fields: Record<string, string>,
  auth: string | null = `${ACCOUNT_SID}:${AUTH_TOKEN}`,
  path = MESSAGES_URL_PATH
) {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' }
  if (auth !== null) headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64')
  return fetch(fake.baseUrl + path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() })
}

const VALID = { To: '+15551234567', Body: 'are you OK? (Y/N)', MessagingServiceSid: SERVICE_SID }

t.test('listens on loopback only', async (t) => {
  const fake = await startFake(t)
  t.match(fake.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
})

t.test('the real twilio SDK gets a realistic 201 message resource', async (t) => {
  const fake = await startFake(t)
  const { client, http } = fake.client()
  const message = await client.messages.create({ to: '+15551234567', body: 'hello', messagingServiceSid: SERVICE_SID })
  t.match(message.sid, /^SM[0-9a-f]{32}$/)
  t.equal(message.status, 'accepted')
  t.equal(message.to, '+15551234567')
  t.equal(message.body, 'hello')
  t.equal(message.accountSid, ACCOUNT_SID)
  t.equal(message.messagingServiceSid, SERVICE_SID)
  t.equal(message.direction, 'outbound-api')
  t.equal(message.dateCreated.toISOString(), '2026-01-05T12:00:00.000Z')
  t.same(http.intendedUris, [`https://api.twilio.com${MESSAGES_URL_PATH}`], 'the SDK built the production URL itself')
  t.equal(fake.requests.length, 1)
  t.same(fake.requests[0]!.basicAuth, { username: ACCOUNT_SID, password: AUTH_TOKEN })
  t.match(fake.requests[0]!.userAgent, /^twilio-node\//)
  t.equal(fake.messages[0]!.sid, message.sid)
})

t.test('wrong or missing basic auth is 401 with code 20003', async (t) => {
  const fake = await startFake(t)
  for (const auth of [null, `${ACCOUNT_SID}:wrong-token`, `AC${'2'.repeat(32)}:${AUTH_TOKEN}`]) {
    const res = await post(fake, VALID, auth)
    t.equal(res.status, 401, `auth ${auth}`)
    t.same(await json(res), {
      code: 20003,
      message: 'Authenticate',
      more_info: 'https://www.twilio.com/docs/errors/20003',
      status: 401
    })
  }
  t.equal(fake.messages.length, 0)
  t.same(
    fake.requests.map((r) => r.status),
    [401, 401, 401],
    'every request is recorded'
  )
})

t.test('another account in the path is 404', async (t) => {
  const fake = await startFake(t)
  const res = await post(fake, VALID, undefined, `/2010-04-01/Accounts/AC${'2'.repeat(32)}/Messages.json`)
  t.equal(res.status, 404)
  t.equal((await json(res)).code, 20404)
})

t.test('required form fields are checked like Twilio does', async (t) => {
  const fake = await startFake(t)
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no To', { Body: 'x', MessagingServiceSid: SERVICE_SID }, 21604],
    ['no Body nor MediaUrl', { To: '+15551234567', MessagingServiceSid: SERVICE_SID }, 21602],
    ['no From nor MessagingServiceSid', { To: '+15551234567', Body: 'x' }, 21603],
    ['To not a phone number', { ...VALID, To: 'not-a-number' }, 21211],
    ['ValidityPeriod above 36000', { ...VALID, ValidityPeriod: '36001' }, 21624],
    ['ValidityPeriod zero', { ...VALID, ValidityPeriod: '0' }, 21624],
    ['Body over 1600 characters', { ...VALID, Body: 'x'.repeat(1601) }, 21617]
  ]
  for (const [name, fields, code] of cases) {
    const res = await post(fake, fields)
    t.equal(res.status, 400, name)
    const body = await json(res)
    t.same(Object.keys(body).sort(), ['code', 'message', 'more_info', 'status'], `${name}: Twilio's error shape`)
    t.match(body, { code, message: /\w/, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 }, name)
  }
  t.equal(fake.messages.length, 0)
})

t.test('MediaUrl instead of Body, and From instead of a service, are accepted', async (t) => {
  const fake = await startFake(t)
  const media = await post(fake, {
    To: '+15551234567',
    MediaUrl: 'https://x.example/a.png',
    MessagingServiceSid: SERVICE_SID
  })
  t.equal(media.status, 201)
  const fromNumber = await post(fake, { To: '+15551234567', Body: 'x', From: '+15557654321', ValidityPeriod: '36000' })
  t.equal(fromNumber.status, 201)
  const resource = await json(fromNumber)
  t.equal(resource.status, 'queued')
  t.equal(resource.from, '+15557654321')
})

t.test('failNext fails exactly the next N requests with Twilio error replies', async (t) => {
  const fake = await startFake(t)
  fake.failNext(2, TWILIO_FAILURES.invalidNumber)
  fake.failNext(1, TWILIO_FAILURES.rateLimited)
  fake.failNext(1, TWILIO_FAILURES.serverError)
  const statuses: number[] = []
  const codes: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await post(fake, VALID)
    statuses.push(res.status)
    codes.push((await json(res)).code ?? 0)
  }
  t.same(statuses, [400, 400, 429, 500, 201])
  t.same(codes.slice(0, 4), [21211, 21211, 20429, 20500])
  t.equal(fake.messages.length, 1)
})

t.test('an injected failure still requires valid credentials first', async (t) => {
  const fake = await startFake(t)
  fake.failNext(1, TWILIO_FAILURES.serverError)
  t.equal((await post(fake, VALID, `${ACCOUNT_SID}:nope`)).status, 401)
  t.equal((await post(fake, VALID)).status, 500, 'the failure was not consumed by the unauthenticated request')
})

t.test(
  'the Messages list, through the real SDK: filtered by To and DateSent, newest first, followed across pages',
  async (t) => {
    let now = Date.UTC(2026, 0, 5, 12)
    const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, now: () => now })
    t.teardown(() => fake.close())
    const { client } = fake.client()
    const ann = '+15551230001'
    const bob = '+15551230002'
    const yesterday = await client.messages.create({ to: ann, body: 'old', messagingServiceSid: SERVICE_SID })
    now += 24 * 3600_000
    const today: string[] = []
    for (let i = 0; i < 120; i++) {
      now += 1000
      today.push((await client.messages.create({ to: ann, body: `text ${i}`, messagingServiceSid: SERVICE_SID })).sid)
      await client.messages.create({ to: bob, body: `text ${i}`, messagingServiceSid: SERVICE_SID })
    }
    const since = new Date(Date.UTC(2026, 0, 6, 12))
    const listed = await client.messages.list({ to: ann, dateSentAfter: since, pageSize: 50 })
    t.same(
      listed.map((m) => m.sid),
      [...today].reverse(),
      "every text to Ann since noon, newest first, none of Bob's, none older"
    )
    t.ok(
      listed.every((m) => m.dateSent instanceof Date && m.dateSent.getTime() >= since.getTime()),
      'each with its DateSent'
    )
    const listRequests = fake.requests.filter((r) => r.method === 'GET')
    t.equal(listRequests.length, 3, '120 texts in pages of 50: three requests')

    const before = await client.messages.list({ to: ann, dateSentBefore: new Date(Date.UTC(2026, 0, 5, 12, 0, 30)) })
    t.same(
      before.map((m) => m.sid),
      [yesterday.sid],
      'DateSent< is on or before'
    )
    const res = await fetch(`${fake.baseUrl}${MESSAGES_URL_PATH}?To=${encodeURIComponent(ann)}&DateSent=2026-01-05`, {
      headers: { Authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64') }
    })
    const page = await json(res)
    t.same(
      (page.messages as Array<{ sid: string }>).map((m) => m.sid),
      [yesterday.sid],
      'a bare DateSent is one UTC day'
    )
    t.equal(page.next_page_uri, null, 'a last page has no next page')
    const bad = await fetch(`${fake.baseUrl}${MESSAGES_URL_PATH}?PageSize=5000`, {
      headers: { Authorization: 'Basic ' + Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString('base64') }
    })
    t.equal(bad.status, 400, 'a page larger than 1000 is refused')
  }
)

t.test('a text accepted during paging does not shift the pages', async (t) => {
  let now = Date.UTC(2026, 0, 5, 12)
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, now: () => now++ })
  t.teardown(() => fake.close())
  const { client } = fake.client()
  const sids: string[] = []
  for (let i = 0; i < 4; i++)
    sids.push(
      (await client.messages.create({ to: '+15551230001', body: `t${i}`, messagingServiceSid: SERVICE_SID })).sid
    )
  const first = await client.messages.page({ pageSize: 2 })
  await client.messages.create({ to: '+15551230001', body: 'late', messagingServiceSid: SERVICE_SID })
  const second = await first.nextPage()
  t.same(
    [...first.instances, ...second!.instances].map((m) => m.sid),
    [...sids].reverse(),
    'the second page goes on from the last text of the first'
  )
})

/** A loopback server standing in for Kronus's webhooks: keeps each post and answers 204. */
async function webhookReceiver(t: Teardown) {
  const posts: Array<{ path: string; form: Record<string, string>; signature: string | undefined }> = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      posts.push({
        path: req.url ?? '',
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
        signature: req.headers['x-twilio-signature'] as string | undefined
      })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  )
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, posts }
}

t.test('a text sent with a StatusCallback gets signed status callbacks on demand', async (t) => {
  const fake = await startFake(t)
  const receiver = await webhookReceiver(t)
  const { client } = fake.client()
  const callback = `${receiver.base}/webhook/sms/status`
  const delivered = await client.messages.create({
    to: '+15551234567',
    body: 'alert',
    messagingServiceSid: SERVICE_SID,
    statusCallback: callback
  })
  const lost = await client.messages.create({
    to: '+15551234568',
    body: 'alert',
    messagingServiceSid: SERVICE_SID,
    statusCallback: callback
  })
  t.equal(fake.statusCallbackOf(delivered.sid), callback)

  const first = await fake.reportStatus(delivered.sid, 'delivered')
  const second = await fake.reportStatus(lost.sid, 'undelivered', 30003)
  t.equal(first.status, 204, "the receiver's answer is kept")
  t.same(
    receiver.posts.map((p) => [p.path, p.form.MessageSid, p.form.MessageStatus, p.form.To, p.form.ErrorCode]),
    [
      ['/webhook/sms/status', delivered.sid, 'delivered', '+15551234567', undefined],
      ['/webhook/sms/status', lost.sid, 'undelivered', '+15551234568', '30003']
    ]
  )
  for (const post of receiver.posts) {
    t.ok(twilio.validateRequest(AUTH_TOKEN, post.signature!, callback, post.form), 'signed as Twilio signs')
    t.equal(post.form.AccountSid, ACCOUNT_SID)
  }
  t.equal(second.form.SmsStatus, 'undelivered')
  t.same(
    fake.messages.map((m) => [m.status, m.error_code]),
    [
      ['delivered', null],
      ['undelivered', 30003]
    ],
    'the messages take the status'
  )
  t.same(
    fake.webhookPosts.map((p) => p.url),
    [callback, callback]
  )
})

t.test('a StatusCallback that is no URL is refused as Twilio does (21609)', async (t) => {
  const fake = await startFake(t)
  for (const bad of ['not a url', 'ftp://x.example/s', 'https://bad_host.example/s']) {
    const res = await post(fake, { ...VALID, StatusCallback: bad })
    t.equal(res.status, 400, bad)
    t.equal((await json(res)).code, 21609, bad)
  }
  const sent = await fake
    .client()
    .client.messages.create({ to: '+15551234567', body: 'x', messagingServiceSid: SERVICE_SID })
  await t.rejects(fake.reportStatus(sent.sid, 'delivered'), /without a StatusCallback/)
  await t.rejects(fake.reportStatus('SMnope', 'delivered'), /no message/)
})

const CALLS_URL_PATH = `/2010-04-01/Accounts/${ACCOUNT_SID}/Calls.json`
const CALLER = '+15550008888'
const TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Alert</Say>' +
  '<Gather numDigits="1" action="https://kronus.example/webhook/voice/gather?ref=alarm-contact%3A3&amp;x=1"><Say>Press 1</Say></Gather></Response>'

t.test(
  'the Calls API, through the real SDK: a call is recorded with its TwiML and answered with a CallSid',
  async (t) => {
    const fake = await startFake(t)
    const { client, http } = fake.client()
    const call = await client.calls.create({
      to: '+15551234567',
      from: CALLER,
      twiml: TWIML,
      statusCallback: 'https://kronus.example/webhook/voice/status'
    })
    t.match(call.sid, /^CA[0-9a-f]{32}$/)
    t.equal(call.status, 'queued')
    t.equal(call.to, '+15551234567')
    t.equal(call.from, CALLER)
    t.equal(call.direction, 'outbound-api')
    t.same(http.intendedUris, [`https://api.twilio.com${CALLS_URL_PATH}`])
    t.equal(fake.calls.length, 1)
    t.equal(fake.twimlOf(call.sid), TWIML)
    t.equal(fake.calls[0]!.statusCallback, 'https://kronus.example/webhook/voice/status')
    t.equal(fake.messages.length, 0, 'a call is no text')
  }
)

t.test('the Calls API checks what Twilio checks, and takes injected failures', async (t) => {
  const fake = await startFake(t)
  const cases: Array<[string, Record<string, string>, number]> = [
    ['no To', { From: CALLER, Twiml: TWIML }, 21201],
    ['no From', { To: '+15551234567', Twiml: TWIML }, 21213],
    ['To not a number', { To: 'nope', From: CALLER, Twiml: TWIML }, 21211],
    ['From not a number', { To: '+15551234567', From: 'MG123', Twiml: TWIML }, 21212],
    ['neither Twiml nor Url', { To: '+15551234567', From: CALLER }, 21205],
    ['Twiml no Response', { To: '+15551234567', From: CALLER, Twiml: '<Say>x</Say>' }, 21236],
    ['Twiml too long', { To: '+15551234567', From: CALLER, Twiml: `<Response>${'x'.repeat(4000)}</Response>` }, 21236],
    ['bad StatusCallback', { To: '+15551234567', From: CALLER, Twiml: TWIML, StatusCallback: 'nope' }, 21609]
  ]
  for (const [name, fields, code] of cases) {
    const res = await post(fake, fields, undefined, CALLS_URL_PATH)
    t.equal(res.status, 400, name)
    t.equal((await json(res)).code, code, name)
  }
  fake.failNext(1, TWILIO_FAILURES.serverError)
  fake.failNext(1, TWILIO_FAILURES.forbiddenNumber)
  const valid = { To: '+15551234567', From: CALLER, Twiml: TWIML }
  t.equal((await post(fake, valid, undefined, CALLS_URL_PATH)).status, 500)
  const forbidden = await post(fake, valid, undefined, CALLS_URL_PATH)
  t.equal(forbidden.status, 400)
  t.equal((await json(forbidden)).code, 13225)
  t.equal((await post(fake, valid, undefined, CALLS_URL_PATH)).status, 201)
  t.equal((await post(fake, valid, `${ACCOUNT_SID}:wrong`, CALLS_URL_PATH)).status, 401)
  t.equal(fake.calls.length, 1)
})

t.test("pressing digits posts, signed, to the call's Gather action; ending it posts its status", async (t) => {
  const fake = await startFake(t)
  const receiver = await webhookReceiver(t)
  const { client } = fake.client()
  const action = `${receiver.base}/webhook/voice/gather?ref=alarm-contact%3A3`
  const twiml = `<Response><Say>Alert</Say><Gather numDigits="1" action="${action.replace('&', '&amp;')}"><Say>Press 1</Say></Gather></Response>`
  const call = await client.calls.create({
    to: '+15551234567',
    from: CALLER,
    twiml,
    statusCallback: `${receiver.base}/webhook/voice/status`
  })
  const pressed = await fake.pressDigits(call.sid, '1')
  t.equal(pressed.url, action)
  const ended = await fake.endCall(call.sid, 'completed')
  t.equal(ended.status, 204)
  t.same(
    receiver.posts.map((p) => [p.path, p.form.CallSid, p.form.To, p.form.From, p.form.Digits, p.form.CallStatus]),
    [
      ['/webhook/voice/gather?ref=alarm-contact%3A3', call.sid, '+15551234567', CALLER, '1', 'in-progress'],
      ['/webhook/voice/status', call.sid, '+15551234567', CALLER, undefined, 'completed']
    ]
  )
  t.ok(twilio.validateRequest(AUTH_TOKEN, receiver.posts[0]!.signature!, action, receiver.posts[0]!.form))
  await t.rejects(fake.pressDigits('CAnope', '1'), /no call/)
})

t.test(
  'deliverPending delivers every text still on its way, once; messagesTo and callsTo select by number',
  async (t) => {
    const fake = await startFake(t)
    const receiver = await webhookReceiver(t)
    const { client } = fake.client()
    const statusCallback = `${receiver.base}/webhook/sms/status`
    const a = await client.messages.create({
      to: '+15551230001',
      body: 'a',
      messagingServiceSid: SERVICE_SID,
      statusCallback
    })
    const b = await client.messages.create({
      to: '+15551230002',
      body: 'b',
      messagingServiceSid: SERVICE_SID,
      statusCallback
    })
    await client.messages.create({ to: '+15551230002', body: 'no callback', messagingServiceSid: SERVICE_SID })
    await fake.reportStatus(b.sid, 'undelivered', 30006)
    const posts = await fake.deliverPending()
    t.same(
      posts.map((p) => [p.form.MessageSid, p.form.MessageStatus]),
      [[a.sid, 'delivered']],
      'only the text still on its way with a callback'
    )
    t.same(await fake.deliverPending(), [], 'nothing twice')
    t.same(
      fake.messagesTo('+15551230002').map((m) => m.body),
      ['b', 'no callback']
    )
    await client.calls.create({ to: '+15551230002', from: CALLER, twiml: TWIML })
    t.equal(fake.callsTo('+15551230002').length, 1)
    t.same(fake.callsTo('+15551230001'), [])
  }
)
