import type { Knex } from 'knex'
import t from 'tap'
import { handleEachOnce, INBOUND_MESSAGES } from '../../../plugins/twilio-sms/handled-once.js'
import type { InboundResult } from '../../../src/messaging/messaging.js'
import { scopedDatabase } from '../../../src/plugins/database.js'
import type { TestKronus } from '../../helpers/app.js'
import { createAdmin, createContact, createUser, type TestUser } from '../../helpers/http.js'
import { buildSmsKronus } from './sms-kronus.js'

/*
 * Webhook requests that arrive together are handled in one transaction (sms-gatherer.ts).
 * What a user relies on: each text is claimed once, answered as it would be alone, and
 * leaves the state it would leave alone.
 */

function handledOnce(kronus: TestKronus) {
  return {
    db: scopedDatabase('twilio-sms', [INBOUND_MESSAGES], kronus.knex),
    now: () => kronus.clock.now(),
    channel: 'twilio-sms'
  }
}

t.test('texts claimed together are each handled once and keep their own reply', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  const asked: number[][] = []
  const answer = (replies: InboundResult[]) => async (fresh: number[], _trx: Knex.Transaction) => {
    asked.push(fresh)
    return fresh.map((at) => replies[at]!)
  }
  const first = await handleEachOnce(
    handledOnce(kronus),
    ['SMa', 'SMb', 'SMc'],
    answer([
      { userId: 7, reply: 'Thanks, Ada' },
      { userId: null, reply: null },
      { userId: 9, reply: 'PONG!' }
    ])
  )
  t.same(first, [
    { userId: 7, reply: 'Thanks, Ada', duplicate: false },
    { userId: null, reply: null, duplicate: false },
    { userId: 9, reply: 'PONG!', duplicate: false }
  ])
  const again = await handleEachOnce(
    handledOnce(kronus),
    ['SMc', 'SMd', 'SMa'],
    answer([
      { userId: 0, reply: 'never' },
      { userId: 8, reply: 'Thanks, Bo' },
      { userId: 0, reply: 'never' }
    ])
  )
  t.same(asked, [[0, 1, 2], [1]], 'only the text not seen before is handled')
  t.same(again, [
    { userId: 9, reply: 'PONG!', duplicate: true },
    { userId: 8, reply: 'Thanks, Bo', duplicate: false },
    { userId: 7, reply: 'Thanks, Ada', duplicate: true }
  ])
  const rows = await kronus.knex(INBOUND_MESSAGES).orderBy('message_id').select('message_id', 'user_id', 'reply')
  t.same(
    rows.map((r: any) => ({ ...r, user_id: r.user_id === null ? null : Number(r.user_id) })),
    [
      { message_id: 'SMa', user_id: 7, reply: 'Thanks, Ada' },
      { message_id: 'SMb', user_id: null, reply: null },
      { message_id: 'SMc', user_id: 9, reply: 'PONG!' },
      { message_id: 'SMd', user_id: 8, reply: 'Thanks, Bo' }
    ],
    'each row keeps its own sender and reply'
  )
})

t.test('a batch that fails claims nothing, so every text of it is handled afresh', async (t) => {
  const { kronus } = await buildSmsKronus(t)
  await t.rejects(
    handleEachOnce(handledOnce(kronus), ['SM1', 'SM2'], async () => {
      throw new Error('a handler failed')
    }),
    { message: 'a handler failed' }
  )
  t.equal((await kronus.knex(INBOUND_MESSAGES)).length, 0)
  await t.rejects(
    handleEachOnce(handledOnce(kronus), ['SM1', 'SM1'], async () => []),
    { message: /message ids must differ/ },
    'one text twice in a batch is a mistake'
  )
})

async function userWithProbe(kronus: TestKronus, admin: Awaited<ReturnType<typeof createAdmin>>, name: string) {
  const user = await createUser(kronus, admin, { first_name: name })
  await createContact(kronus, user, { is_emergency_contact: true })
  const started = await kronus.probes.start(user.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 30 })
  if (!started.started) throw new Error('probe did not start')
  return user
}

/** Seven people and what each texts; the stranger is nobody's user or contact. */
async function cast(kronus: TestKronus) {
  const admin = await createAdmin(kronus)
  const ada = await userWithProbe(kronus, admin, 'Ada')
  const bo = await userWithProbe(kronus, admin, 'Bo')
  const cy = await userWithProbe(kronus, admin, 'Cy')
  const di = await userWithProbe(kronus, admin, 'Di')
  const ed = await createUser(kronus, admin, { first_name: 'Ed' })
  const flo = await userWithProbe(kronus, admin, 'Flo')
  // Gus texted SOS, then a check-in started: his OK ends the check-in and the alarm.
  const gus = await createUser(kronus, admin, { first_name: 'Gus' })
  await createContact(kronus, gus, { is_emergency_contact: true })
  await kronus.messaging.receive({ from: gus.phone_number, text: 'SOS', channel: 'twilio', messageId: 'SMsos' })
  const started = await kronus.probes.start(gus.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 30 })
  if (!started.started) throw new Error('probe did not start')
  const texts = (stranger: string) => [
    { who: ada, text: 'Y' },
    { who: bo, text: 'N' },
    { who: cy, text: 'maybe later' },
    { who: di, text: 'yes' },
    // Di's second text is taken after her first: no check-in waits any more.
    { who: di, text: 'N' },
    { who: ed, text: 'Y' },
    { who: flo, text: 'PING' },
    { who: gus, text: 'ok' },
    { who: null, text: 'hello?', from: stranger }
  ]
  return { people: [ada, bo, cy, di, ed, flo, gus], texts }
}

async function outcome(kronus: TestKronus, people: TestUser[]) {
  const statuses = []
  for (const person of people) {
    const rows = await kronus.knex('probes').where({ user_id: person.id }).orderBy('id')
    statuses.push(rows.map((row: any) => [Number(row.probe_status_id), row.last_response]))
  }
  const indexOf = new Map(people.map((p, i) => [p.id, i]))
  const events = async (type: any) =>
    (await kronus.events.list({ type })).map((e: any) => indexOf.get(e.payload.userId) ?? 'stranger').sort()
  return {
    statuses,
    received: await events('message.received'),
    replies: await events('probe.reply_received'),
    changes: await events('probe.status_changed'),
    emergencies: await events('emergency.triggered'),
    alarms: (await kronus.knex('alarms').orderBy('id').select('user_id', 'trigger', 'status')).map((a: any) => [
      indexOf.get(Number(a.user_id)),
      a.trigger,
      a.status
    ])
  }
}

t.test(
  'texts received together are each answered, and change what they would change, as if they came one by one',
  async (t) => {
    const one = await buildSmsKronus(t)
    const oneByOne = await cast(one.kronus)
    const alone: Array<string | null> = []
    for (const [i, { who, text, from }] of oneByOne.texts('+15559990001').entries()) {
      const message = { from: who?.phone_number ?? from!, text, channel: 'twilio', messageId: `SM${i}` }
      alone.push((await one.kronus.messaging.receive(message)).reply)
    }

    const all = await buildSmsKronus(t)
    const together = await cast(all.kronus)
    const results = await all.kronus.messaging.receiveMany(
      together.texts('+15559990002').map(({ who, text, from }, i) => ({
        from: who?.phone_number ?? from!,
        text,
        channel: 'twilio',
        messageId: `SM${i}`
      }))
    )
    t.same(
      results.map((r) => r.reply),
      alone,
      'the same answer to each text'
    )
    t.same(
      results.map((r) => r.userId),
      [
        ...together.people.map((p) => p.id).slice(0, 4),
        together.people[3]!.id,
        ...together.people.slice(4).map((p) => p.id),
        null
      ],
      'each text names its sender'
    )
    t.match(alone, [/Ada/, /alerting your emergency contacts/, /Reply Y/, /Di/, String, String, 'PONG!', /Gus/, null])
    const gusAlarms = (await outcome(all.kronus, together.people)).alarms.filter(([who]) => who === 6)
    t.same(gusAlarms, [[6, 'panic', 'resolved']], "Gus's OK in the batch ended his alarm too")
    t.same(
      await outcome(all.kronus, together.people),
      await outcome(one.kronus, oneByOne.people),
      'the same probes, events and alarms'
    )
  }
)
