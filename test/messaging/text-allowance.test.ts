import t from 'tap'
import { smsCommands } from '../../plugins/sms-commands/index.js'
import type { KronusConfigInput } from '../../src/config/types.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../helpers/http.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

interface Setup {
  kronus: TestKronus
  channel: RecordingChannel
  admin: TestUser
  user: TestUser
}

async function setUp(t: Parameters<typeof buildKronus>[0], limits: KronusConfigInput['limits']): Promise<Setup> {
  const kronus = await buildKronus(t, { config: { plugins: [smsCommands()], limits } })
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Ada' })
  return { kronus, channel, admin, user }
}

async function text(s: Setup, from: string, body: string): Promise<string | null> {
  return (await s.kronus.messaging.receive({ from, text: body, channel: 'sms', messageId: null })).reply
}

function note(s: Setup, n: number, allowance: 'counted' | 'refusable', userId = s.user.id) {
  return { to: s.user.phone_number, text: `note ${n}`, userId, allowance }
}

async function limitEvents(s: Setup) {
  return (await s.kronus.events.list({ type: 'limit.reached' })).map((e) => e.payload)
}

t.test('refusable texts stop at the user limit, counted ones never do, and 24 hours later they go again', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 3 })
  t.equal(await s.kronus.messaging.send(note(s, 1, 'counted')), true)
  t.equal(await s.kronus.messaging.send(note(s, 2, 'refusable')), true)
  t.equal(await s.kronus.messaging.send(note(s, 3, 'refusable')), true)
  t.equal(await s.kronus.messaging.send(note(s, 4, 'refusable')), false, 'the fourth is over 3')
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 0)
  t.same(
    await s.kronus.messaging.sendMany([note(s, 5, 'counted'), note(s, 6, 'refusable'), note(s, 7, 'counted')]),
    [true, false, true],
    'counted texts (check-ins) go whatever the count'
  )
  await s.kronus.queue.drain()
  t.same(
    s.channel.sent.map((m) => m.text),
    ['note 1', 'note 2', 'note 3', 'note 5', 'note 7']
  )
  t.same(await limitEvents(s), [{ limit: 'texts_per_user_per_day', userId: s.user.id, max: 3, refused: true }])

  const other = await createUser(s.kronus, s.admin)
  t.equal(await s.kronus.messaging.send(note(s, 8, 'refusable', other.id)), true, 'the limit is per user')

  s.kronus.clock.advance(23 * HOUR)
  t.equal(await s.kronus.messaging.send(note(s, 9, 'refusable')), false, 'within 24 hours')
  s.kronus.clock.advance(HOUR)
  t.equal(await s.kronus.messaging.send(note(s, 10, 'refusable')), true, '24 hours later')
  t.equal(await s.kronus.messaging.send(note(s, 11, 'counted')), true)
  t.equal(await s.kronus.messaging.send(note(s, 12, 'refusable')), true)
  t.equal(await s.kronus.messaging.send(note(s, 13, 'refusable')), false)
  t.equal((await limitEvents(s)).length, 2, 'a new event for a new 24 hours')
})

t.test('a rolled-back change counts nothing', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 1 })
  await s.kronus.knex
    .transaction(async (trx) => {
      t.equal(await s.kronus.messaging.send(note(s, 1, 'refusable'), trx), true)
      throw new Error('changed my mind')
    })
    .catch(() => undefined)
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 1)
  t.equal(await s.kronus.messaging.send(note(s, 2, 'refusable')), true)
})

t.test(
  "alarms' texts are never counted nor refused: an alarm and its all-clear go out for a capped user",
  async (t) => {
    const s = await setUp(t, { textsPerUserPerDay: 3 })
    // Mary's invitation is the first of the user's three texts, two pings the others.
    const contact = await createContact(s.kronus, s.user, { is_emergency_contact: true, first_name: 'Mary' })
    t.equal(await s.kronus.messaging.textsLeft(s.user.id), 2, 'the invitation counted')
    t.equal(await text(s, s.user.phone_number, 'ping'), 'PONG!')
    t.equal(await text(s, s.user.phone_number, 'ping'), 'PONG!')
    t.equal(await text(s, s.user.phone_number, 'ping'), null, 'capped: a command goes unanswered')

    t.match(await text(s, s.user.phone_number, 'SOS'), /alerting your emergency contacts/)
    await s.kronus.queue.drain()
    const toMary = () => s.channel.sent.filter((m) => m.to === contact.phone_number).map((m) => m.text)
    t.equal(toMary().length, 1, 'the alert went')
    t.match(toMary()[0], /Ada/)
    const code = /OK (\d+)/.exec(toMary()[0]!)![1]
    t.match(await text(s, contact.phone_number, `OK ${code}`), /Thank/, 'the acknowledgement is answered')
    t.match(await text(s, s.user.phone_number, 'OK'), /^Glad you are OK/, "the user's all-clear is answered")
    await s.kronus.queue.drain()
    t.match(toMary().at(-1), /^Mary, all clear: Ada answered that they are OK/, 'the all-clear reached Mary')
    t.equal(await s.kronus.messaging.textsLeft(s.user.id), 0, 'none of it counted against, or freed, the allowance')
    t.equal(
      await s.kronus.messaging.send({
        to: contact.phone_number,
        text: 'alarm',
        userId: s.user.id,
        priority: 'emergency'
      }),
      true,
      'an emergency text is queued whatever the counters say'
    )
  }
)

t.test('the server limit refuses refusable texts of everyone; counted texts past it raise one event', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 30, textsPerServerPerDay: 4 })
  const other = await createUser(s.kronus, s.admin)
  t.same(
    await s.kronus.messaging.sendMany([
      note(s, 1, 'counted'),
      note(s, 2, 'refusable'),
      note(s, 3, 'counted', other.id),
      note(s, 4, 'refusable', other.id),
      note(s, 5, 'refusable', other.id)
    ]),
    [true, true, true, true, false]
  )
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 0, "the server's allowance is everyone's")
  t.same(await limitEvents(s), [{ limit: 'texts_per_server_per_day', userId: null, max: 4, refused: true }])
  t.same(await s.kronus.messaging.sendMany([note(s, 6, 'counted'), note(s, 7, 'counted')]), [true, true])
  t.equal((await limitEvents(s)).length, 1, 'once in 24 hours')

  s.kronus.clock.advance(24 * HOUR)
  await s.kronus.messaging.sendMany(Array.from({ length: 5 }, (_, n) => note(s, 10 + n, 'counted')))
  t.same((await limitEvents(s))[1], { limit: 'texts_per_server_per_day', userId: null, max: 4, refused: false })
})

t.test('a fan-out of counted texts is counted per user in a few statements', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 2 })
  const ids = Array.from({ length: 1000 }, (_, n) => 1_000_000 + n)
  const queries: string[] = []
  const onQuery = (q: { sql: string }) => queries.push(q.sql)
  s.kronus.knex.on('query', onQuery)
  const queued = await s.kronus.messaging.sendMany(
    ids.map((userId) => ({ to: '+15550001111', text: 'Are you OK?', userId }))
  )
  s.kronus.knex.off('query', onQuery)
  t.equal(queued.filter(Boolean).length, 1000)
  const counting = queries.filter((sql) => sql.includes('text_counts'))
  t.ok(counting.length <= 5, `${counting.length} statements on text_counts for 1000 users`)
  t.notOk(
    counting.some((sql) => /^select/i.test(sql)),
    'counted texts are not read back'
  )
  t.equal(await s.kronus.messaging.textsLeft(ids[0]!), 1)
})

t.test('counts older than 24 hours are pruned with the queue', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 5 })
  await s.kronus.messaging.send(note(s, 1, 'counted'))
  s.kronus.clock.advance(2 * HOUR)
  await s.kronus.messaging.send(note(s, 2, 'counted'))
  s.kronus.clock.advance(23 * HOUR)
  await s.kronus.queue.prune()
  t.equal((await s.kronus.knex('text_counts')).length, 1, 'the first hour went, the last stays')
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 4)
})

t.test('GET /v1/limits/reached: the limits reached, for an admin only', async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 1 })
  await s.kronus.messaging.send(note(s, 1, 'refusable'))
  await s.kronus.messaging.send(note(s, 2, 'refusable'))
  await s.kronus.messaging.send(note(s, 3, 'refusable'))
  const res = await call(s.kronus, { method: 'GET', url: '/v1/limits/reached', token: s.admin.token })
  t.equal(res.statusCode, 200, res.payload)
  t.match(res.body, {
    success: true,
    data: [
      {
        limit: 'texts_per_user_per_day',
        user_id: s.user.id,
        max: 1,
        refused: true,
        created_at: new Date(s.kronus.clock.now()).toISOString()
      }
    ],
    paging: { total: 1, page: 1, pages: 1 }
  })
  t.equal((await call(s.kronus, { method: 'GET', url: '/v1/limits/reached', token: s.user.token })).statusCode, 403)
  t.equal((await call(s.kronus, { method: 'GET', url: '/v1/limits/reached' })).statusCode, 401)
  t.equal(
    (await call(s.kronus, { method: 'GET', url: '/v1/limits/reached?page=0', token: s.admin.token })).statusCode,
    400
  )
})

t.test("a refusable handler's claims keep the texts it never answers out of it and out of the allowance", async (t) => {
  const s = await setUp(t, { textsPerUserPerDay: 1 })
  const asked: string[] = []
  s.kronus.messaging.onInbound(
    async (message) => {
      asked.push(message.text)
      return message.text === 'weather' ? 'sunny' : null
    },
    { replies: 'refusable', claims: (text) => /^(weather|forecast)$/.test(text) }
  )
  t.equal(await s.kronus.messaging.send(note(s, 1, 'counted')), true)
  t.equal(await s.kronus.messaging.textsLeft(s.user.id), 0, 'the allowance is spent')
  t.equal(await text(s, s.user.phone_number, 'hello there'), null)
  t.equal(await text(s, s.user.phone_number, 'forecast'), null)
  t.equal(await text(s, s.user.phone_number, 'weather'), null, 'over the allowance a claimed text is not answered')
  t.same(asked, ['forecast', 'weather'], 'only the texts it claims reach it')
  t.same(
    await limitEvents(s),
    [{ limit: 'texts_per_user_per_day', userId: s.user.id, max: 1, refused: true }],
    'the answer it would have sent is the one refusal'
  )
  t.throws(() => s.kronus.messaging.onInbound(async () => null, { claims: 'weather' as any }), {
    message: /claims must be a function/
  })
})
