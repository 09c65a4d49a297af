import t from 'tap'
import { call, createAdmin, createContact, createUser } from '../../helpers/http.js'
import { buildSmsKronus } from './sms-kronus.js'

/* The dev phone panel: POST /dev/sms texts Kronus as a phone would; GET /dev/texts shows what Kronus sent. */

/** Runs `fn` with the console channel's printing kept out of the test output. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
  }
}

t.test(
  'in dev mode a text from the panel goes through the real inbound handling, and its texts come back',
  async (t) => {
    const { kronus, fake } = await buildSmsKronus(t, { dev: true })
    const admin = await createAdmin(kronus)
    const user = await createUser(kronus, admin, { first_name: 'Ada' })
    await createContact(kronus, user, { is_emergency_contact: true })

    const sent = await quietly(async () => {
      const res = await call(kronus, {
        method: 'POST',
        url: '/dev/sms',
        payload: { from: user.phone_number, text: 'PROBE' }
      })
      await kronus.queue.drain()
      return res
    })
    t.equal(sent.statusCode, 200, sent.payload)
    t.match(
      sent.body,
      { success: true, data: { replies: [/Kronus will check on you/] } },
      "the sms-commands plugin's answer"
    )
    const events = await kronus.knex('events').where({ type: 'message.received' })
    t.match(JSON.parse(events[0].payload), {
      from: user.phone_number,
      text: 'PROBE',
      channel: 'twilio',
      userId: user.id
    })
    // The check-in asked for starts in 5 minutes.
    await quietly(async () => {
      kronus.clock.advanceMinutes(5)
      await kronus.queue.drain()
    })
    t.same(fake.requests, [], 'nothing went to Twilio')

    const texts = await call(kronus, { url: '/dev/texts' })
    t.equal(texts.statusCode, 200)
    const ask = texts.body.data.find((x: any) => x.to === user.phone_number)
    t.match(ask, {
      to: user.phone_number,
      body: /Are you OK Ada\?/,
      kind: 'sms',
      at: new Date(kronus.clock.now()).toISOString()
    })

    // A reply, then what came after the last id seen.
    const last = texts.body.data.at(-1).id
    const yes = await quietly(async () => {
      const res = await call(kronus, {
        method: 'POST',
        url: '/dev/sms',
        payload: { from: user.phone_number, text: 'y' }
      })
      await kronus.queue.drain()
      return res
    })
    t.strictSame(yes.body.data.replies, ['Thanks Ada, glad you are OK.'])
    t.same(
      (await call(kronus, { url: `/dev/texts?after=${last}` })).body.data,
      [],
      'the reply is TwiML, not a text sent'
    )

    const stop = await quietly(() =>
      call(kronus, { method: 'POST', url: '/dev/sms', payload: { from: user.phone_number, text: 'STOP' } })
    )
    t.match(stop.body.data.replies, [/unsubscribed|no more|STOP|START/i], "twilio-sms's keyword handling answers STOP")
    const stopped = await kronus.knex('users').where({ id: user.id }).first('sms_opted_out_at')
    t.ok(stopped.sms_opted_out_at, 'and the user is opted out, as by a real STOP')

    const unknown = await call(kronus, {
      method: 'POST',
      url: '/dev/sms',
      payload: { from: '+15550001234', text: 'hi' }
    })
    t.strictSame(unknown.body.data, { replies: [] }, 'a number that is no user gets no reply')
  }
)

t.test('POST /dev/sms checks its input, answers only this machine, and exists only in dev mode', async (t) => {
  const { kronus } = await buildSmsKronus(t, { dev: true })
  const bad = await call(kronus, { method: 'POST', url: '/dev/sms', payload: { from: '555', text: 'hi' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.body.errors[0], /"from" must be an E.164 phone number/)
  const noText = await call(kronus, { method: 'POST', url: '/dev/sms', payload: { from: '+15550001234' } })
  t.match(noText.body.errors[0], /"text" is required/)
  const remote = await call(kronus, {
    method: 'POST',
    url: '/dev/sms',
    payload: { from: '+15550001234', text: 'hi' },
    remoteAddress: '192.0.2.7'
  })
  t.equal(remote.statusCode, 403)
  const proxied = await call(kronus, {
    method: 'POST',
    url: '/dev/sms',
    payload: { from: '+15550001234', text: 'hi' },
    headers: { 'x-forwarded-for': '192.0.2.7' }
  })
  t.equal(proxied.statusCode, 403, 'a request a proxy forwarded')

  const { kronus: production } = await buildSmsKronus(t)
  const res = await call(production, { method: 'POST', url: '/dev/sms', payload: { from: '+15550001234', text: 'hi' } })
  t.equal(res.statusCode, 404, 'no dev route without dev mode')
  t.equal((await call(production, { url: '/dev/texts' })).statusCode, 404)
})
