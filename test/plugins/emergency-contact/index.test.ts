import t from 'tap'
import { MessageDeliveryError } from '../../../src/messaging/channel.js'
import { buildKronus } from '../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../helpers/http.js'
import { RecordingChannel } from '../../helpers/recording-channel.js'
import {
  type AlertSetup,
  answerNo,
  buildAlertKronus,
  emergencyContactLoggingTo,
  emergencyContactOf,
  type LogLine,
  PINO_ERROR,
  textsTo,
  turnProbesOn
} from './alert-kronus.js'

const PROBES_OFF = 'Your check-ins are now off; turn them back on in Kronus when you are ready.'

async function linksOf(s: AlertSetup, probeId: number): Promise<Array<number | null>> {
  return (await s.kronus.knex('emergency_probes').where({ probe_id: probeId }).orderBy('id')).map((r: any) =>
    r.contact_id === null ? null : Number(r.contact_id)
  )
}

async function active(s: AlertSetup): Promise<boolean> {
  return Boolean((await s.kronus.knex('probe_settings').where({ user_id: s.user.id }).first()).active)
}

async function payloads(
  s: AlertSetup,
  type: 'emergency-contact.unreachable' | 'emergency-contact.reported' | 'emergency-contact.alerted'
) {
  return (await s.kronus.events.list({ type })).map((e) => e.payload)
}

const errorsLogged = (logs: LogLine[]) => logs.filter((line) => line.level >= PINO_ERROR).map((line) => line.msg)

t.test(
  'a bad probe alerts every emergency contact in marking order, turns probes off and tells the user whom it reached',
  async (t) => {
    const s = await buildAlertKronus(t)
    const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
    const bystander = await createContact(s.kronus, s.user, { first_name: 'Not', last_name: 'Marked' })
    const alan = await emergencyContactOf(s, 'Alan', 'Turing')
    await turnProbesOn(s)
    const probeId = await answerNo(s)
    await s.kronus.queue.drain()

    t.same(
      s.channel.sent.filter((m) => m.to !== s.user.phone_number).map((m) => m.to),
      [grace.phone_number, alan.phone_number],
      'each emergency contact once, in the order they were marked'
    )
    t.same(textsTo(s, grace.phone_number), [
      `Grace, this is Kronus, the check-in service of Ada Lovelace. Ada answered that they are NOT OK. Please contact them now: ${s.user.phone_number}.`
    ])
    t.same(textsTo(s, bystander.phone_number), [])
    t.same(await linksOf(s, probeId), [grace.id, alan.id], 'an emergency probe per contact')
    t.equal(await active(s), false)
    t.same(textsTo(s, s.user.phone_number).slice(1), [
      `Kronus reached your emergency contacts Grace Hopper and Alan Turing. ${PROBES_OFF}`
    ])
    t.same(await payloads(s, 'emergency-contact.alerted'), [
      { userId: s.user.id, probeId, status: 'bad', contactIds: [grace.id, alan.id] }
    ])
    t.same(await payloads(s, 'emergency-contact.reported'), [
      { userId: s.user.id, probeId, status: 'bad', reached: ['Grace Hopper', 'Alan Turing'], failed: [] }
    ])
    t.same(await payloads(s, 'emergency-contact.unreachable'), [])
    t.same(errorsLogged(s.logs), [])

    const probes = await call(s.kronus, { url: `/v1/users/${s.user.id}/probes`, token: s.user.token })
    t.equal(probes.body.data[0].emergency_probe.probe_id, probeId, "the API shows the probe's alert")
  }
)

t.test('marking order, not creation order, decides who is texted first', async (t) => {
  const s = await buildAlertKronus(t)
  const late = await createContact(s.kronus, s.user, { first_name: 'Marked', last_name: 'Later' })
  const early = await emergencyContactOf(s, 'Marked', 'First')
  s.kronus.clock.advanceMinutes(1)
  await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/contacts/${late.id}`,
    token: s.user.token,
    payload: { is_emergency_contact: true }
  })
  await answerNo(s)
  await s.kronus.queue.drain()
  t.same(
    s.channel.sent.filter((m) => m.to !== s.user.phone_number).map((m) => m.to),
    [early.phone_number, late.phone_number]
  )
})

t.test('an unanswered probe sends the unavailable text, different from the bad one', async (t) => {
  const s = await buildAlertKronus(t)
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  await s.kronus.probes.start(s.user.id, { origin: 'on_demand', maxRetries: 0, waitTimeInMinutes: 5 })
  s.kronus.clock.advanceMinutes(5)
  await s.kronus.queue.drain()
  t.same(textsTo(s, grace.phone_number), [
    `Grace, this is Kronus, the check-in service of Ada Lovelace. Ada has not answered their check-ins. Please make sure they are OK: ${s.user.phone_number}.`
  ])
  t.same(textsTo(s, s.user.phone_number).slice(1), [
    `You did not answer your check-in, so Kronus reached your emergency contact Grace Hopper. ${PROBES_OFF}`
  ])
})

t.test('a redelivered emergency texts nobody twice', async (t) => {
  const s = await buildAlertKronus(t)
  await emergencyContactOf(s, 'Grace', 'Hopper')
  await emergencyContactOf(s, 'Alan', 'Turing')
  const probeId = await answerNo(s)
  await s.kronus.queue.drain()
  const sentBefore = s.channel.sent.length
  t.equal(sentBefore, 4, 'the question, two alerts and the report to the user')

  // At least once: the same event handed to the subscriber again (a crash after its side effects).
  const [triggered] = await s.kronus.events.list({ type: 'emergency.triggered' })
  for (let i = 0; i < 2; i++) {
    await s.kronus.queue.enqueue('events.deliver', { subscriber: 'emergency-contact:alert', eventId: triggered!.id })
    await s.kronus.queue.drain()
  }
  t.equal(s.channel.sent.length, sentBefore, 'no second alert, no second report')
  t.equal((await linksOf(s, probeId)).length, 2)
  t.equal((await payloads(s, 'emergency-contact.alerted')).length, 1)
})

const invalidNumber = () =>
  new MessageDeliveryError('Twilio rejected the message (HTTP 400 code 21211)', { permanent: true })

t.test('a contact whose text fails is named to the user; the others still count as reached', async (t) => {
  const s = await buildAlertKronus(t)
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  const alan = await emergencyContactOf(s, 'Alan', 'Turing')
  const probeId = await answerNo(s)
  s.channel.failNext(invalidNumber())
  await s.kronus.queue.drain()
  t.same(textsTo(s, grace.phone_number), [])
  t.equal(textsTo(s, alan.phone_number).length, 1)
  t.same(textsTo(s, s.user.phone_number).slice(1), [
    `Kronus reached your emergency contact Alan Turing. It could not reach Grace Hopper. ${PROBES_OFF}`
  ])
  t.same(await payloads(s, 'emergency-contact.reported'), [
    { userId: s.user.id, probeId, status: 'bad', reached: ['Alan Turing'], failed: ['Grace Hopper'] }
  ])
  t.same(await payloads(s, 'emergency-contact.unreachable'), [])
  t.same(errorsLogged(s.logs), ['the alert to emergency contact Grace Hopper failed'])
})

t.test('when every alert fails for good, it is an event and a logged error, and the user is told', async (t) => {
  const s = await buildAlertKronus(t)
  await emergencyContactOf(s, 'Grace', 'Hopper')
  await emergencyContactOf(s, 'Alan', 'Turing')
  const probeId = await answerNo(s)
  s.channel.failNext(invalidNumber())
  s.channel.failNext(invalidNumber())
  await s.kronus.queue.drain()
  t.same(await payloads(s, 'emergency-contact.unreachable'), [
    {
      userId: s.user.id,
      probeId,
      status: 'bad',
      reason: 'every_text_failed',
      contacts: ['Grace Hopper', 'Alan Turing']
    }
  ])
  const errors = errorsLogged(s.logs)
  // The two alerts are sent side by side, so their failures may be logged in either order.
  t.same(errors.slice(0, 2).sort(), [
    'the alert to emergency contact Alan Turing failed',
    'the alert to emergency contact Grace Hopper failed'
  ])
  t.same(
    errors.slice(2),
    ['EMERGENCY NOT RELAYED: no emergency contact could be texted'],
    'and once both have failed, the emergency is reported unrelayed'
  )
  t.same(textsTo(s, s.user.phone_number).slice(1), [
    `Kronus could not reach any of your emergency contacts (Grace Hopper and Alan Turing). If you need help, call your local emergency number. ${PROBES_OFF}`
  ])
})

t.test('an alert retried until it gives up counts as failed too', async (t) => {
  const s = await buildAlertKronus(t)
  await emergencyContactOf(s, 'Grace', 'Hopper')
  await answerNo(s)
  for (let i = 0; i < 4; i++) s.channel.failNext(new Error('socket hang up'))
  for (let i = 0; i < 6; i++) {
    await s.kronus.queue.drain()
    s.kronus.clock.advanceMinutes(10)
  }
  t.match(await payloads(s, 'emergency-contact.unreachable'), [
    { reason: 'every_text_failed', contacts: ['Grace Hopper'] }
  ])
  t.match(textsTo(s, s.user.phone_number).slice(1), [
    /^Kronus could not reach any of your emergency contacts \(Grace Hopper\)/
  ])
})

t.test(
  'a user with no emergency contact: an event, a logged error and a text to the user, never silence',
  async (t) => {
    const s = await buildAlertKronus(t)
    const probeId = await answerNo(s)
    await s.kronus.queue.drain()
    t.same(await payloads(s, 'emergency-contact.unreachable'), [
      { userId: s.user.id, probeId, status: 'bad', reason: 'no_emergency_contact', contacts: [] }
    ])
    t.same(errorsLogged(s.logs), ['EMERGENCY NOT RELAYED: the user has no emergency contact'])
    t.same(textsTo(s, s.user.phone_number).slice(1), [
      `You have no emergency contact, so Kronus could not alert anyone. If you need help, call your local emergency number. ${PROBES_OFF}`
    ])

    const [triggered] = await s.kronus.events.list({ type: 'emergency.triggered' })
    await s.kronus.queue.enqueue('events.deliver', { subscriber: 'emergency-contact:alert', eventId: triggered!.id })
    await s.kronus.queue.drain()
    t.equal((await payloads(s, 'emergency-contact.unreachable')).length, 1, 'a redelivery records it once')
    t.equal(textsTo(s, s.user.phone_number).length, 2)
  }
)

t.test('a user deleted before the alert runs gets nothing sent on their behalf', async (t) => {
  const s = await buildAlertKronus(t)
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  await answerNo(s)
  const res = await call(s.kronus, { method: 'DELETE', url: `/v1/users/${s.user.id}`, token: s.user.token })
  t.equal(res.statusCode, 200)
  await s.kronus.queue.drain()
  t.same(textsTo(s, grace.phone_number), [])
  t.equal(
    await s.kronus
      .knex('jobs')
      .where({ status: 'dead' })
      .count({ n: '*' })
      .then((r: any) => Number(r[0].n)),
    0,
    'nothing failed either'
  )
})

t.test('an emergency recorded just before a crash is relayed by the next process', async (t) => {
  const logs: LogLine[] = []
  const first = await buildKronus(t, { config: { plugins: [emergencyContactLoggingTo(logs)] } })
  const s: AlertSetup = { kronus: first, channel: new RecordingChannel(), logs, user: undefined as never }
  first.messaging.registerChannel(s.channel)
  const admin = await createAdmin(first)
  s.user = await createUser(first, admin, { first_name: 'Ada', last_name: 'Lovelace' })
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  await answerNo(s)
  await first.stop()

  const second = await buildKronus(t, {
    dir: first.dir,
    clock: first.clock,
    config: { plugins: [emergencyContactLoggingTo(logs)] }
  })
  const channel = new RecordingChannel('after-restart')
  second.messaging.registerChannel(channel)
  await second.queue.drain()
  t.same(channel.sent.filter((m) => m.to === grace.phone_number).length, 1)
  t.match(
    channel.sent.filter((m) => m.to === s.user.phone_number).map((m) => m.text),
    [/^Kronus reached your emergency contact Grace Hopper\./]
  )
})

t.test('only texts to emergency contacts reach the delivery recorder: a probe text costs it no job', async (t) => {
  const s = await buildAlertKronus(t)
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  const alan = await emergencyContactOf(s, 'Alan', 'Turing')
  await turnProbesOn(s)
  await answerNo(s)
  await s.kronus.queue.drain()

  const recorded = await s.kronus
    .knex('jobs')
    .where({ name: 'events.deliver' })
    .where('lane', 'like', 'events:emergency-contact:deliveries:%')
  const texts = await s.kronus.events.list({ type: 'message.sent', limit: 100 })
  t.ok(texts.length > 2, 'the user was texted too (the probe, the report)')
  t.same(
    recorded.map((job: any) => JSON.parse(job.payload).eventId).sort(),
    texts
      .filter((e) => e.payload.to === grace.phone_number || e.payload.to === alan.phone_number)
      .map((e) => e.id)
      .sort(),
    'one delivery job per alert text, none for the texts to the user'
  )
  t.same(await payloads(s, 'emergency-contact.reported'), [
    {
      userId: s.user.id,
      probeId: (await payloads(s, 'emergency-contact.alerted'))[0]!.probeId,
      status: 'bad',
      reached: ['Grace Hopper', 'Alan Turing'],
      failed: []
    }
  ])
})
