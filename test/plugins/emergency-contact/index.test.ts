import t from 'tap'
import { buildKronus } from '../../helpers/app.js'
import { agreedBeforeTheTest, call, createAdmin, createContact, createUser } from '../../helpers/http.js'
import { RecordingChannel } from '../../helpers/recording-channel.js'
import {
  type AlertSetup,
  answerNo,
  buildAlertKronus,
  emergencyContactLoggingTo,
  emergencyContactOf,
  type LogLine,
  textsTo,
  turnProbesOn
} from './alert-kronus.js'

/*
 * emergency-contact around the core's alarm engine: the engine texts the contacts (once
 * each, in marking order) and reports to the user; the plugin keeps the first Kronus's
 * history (emergency probes, its events) and never texts anyone itself.
 */

async function linksOf(s: AlertSetup, probeId: number): Promise<Array<number | null>> {
  return (await s.kronus.knex('emergency_probes').where({ probe_id: probeId }).orderBy('id')).map((r: any) =>
    r.contact_id === null ? null : Number(r.contact_id)
  )
}

async function active(s: AlertSetup): Promise<boolean> {
  return Boolean((await s.kronus.knex('probe_settings').where({ user_id: s.user.id }).first()).active)
}

async function payloads(s: AlertSetup, type: 'emergency-contact.unreachable' | 'emergency-contact.alerted') {
  return (await s.kronus.events.list({ type })).map((e) => e.payload)
}

t.test(
  'a bad probe: every emergency contact texted once in marking order, the history recorded, check-ins left on',
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
      'each emergency contact once (not twice: the plugin no longer texts), in the order they were marked'
    )
    t.match(
      textsTo(s, grace.phone_number)[0],
      `Grace, this is Kronus, the check-in service of Ada Lovelace. Ada answered that they are NOT OK. They texted: "N". Please contact them now: ${s.user.phone_number}. Reply OK `
    )
    t.same(textsTo(s, bystander.phone_number), [])
    t.same(await linksOf(s, probeId), [grace.id, alan.id], 'an emergency probe per contact')
    t.equal(await active(s), true, 'check-ins are no longer turned off for good by an alarm')
    t.same(await payloads(s, 'emergency-contact.alerted'), [
      { userId: s.user.id, probeId, status: 'bad', contactIds: [grace.id, alan.id] }
    ])
    t.same(await payloads(s, 'emergency-contact.unreachable'), [])
    const probes = await call(s.kronus, { url: `/v1/users/${s.user.id}/probes`, token: s.user.token })
    t.equal(probes.body.data[0].emergency_probe.probe_id, probeId, "the API shows the probe's alert")
  }
)

t.test('marking order, not creation order, decides who is texted first', async (t) => {
  const s = await buildAlertKronus(t)
  const late = await createContact(s.kronus, s.user, { first_name: 'Marked', last_name: 'Later' })
  const early = await emergencyContactOf(s, 'Marked', 'Earlier')
  s.kronus.clock.advanceMinutes(1)
  await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/contacts/${late.id}`,
    token: s.user.token,
    payload: { is_emergency_contact: true }
  })
  await agreedBeforeTheTest(s.kronus, late)
  await answerNo(s)
  await s.kronus.queue.drain()
  t.same(
    s.channel.sent.filter((m) => m.to !== s.user.phone_number).map((m) => m.to),
    [early.phone_number, late.phone_number]
  )
})

t.test('a redelivered alarm.raised records nothing twice and texts nobody', async (t) => {
  const s = await buildAlertKronus(t)
  await emergencyContactOf(s, 'Grace', 'Hopper')
  await emergencyContactOf(s, 'Alan', 'Turing')
  const probeId = await answerNo(s)
  await s.kronus.queue.drain()
  const sentBefore = s.channel.sent.length
  const [raised] = await s.kronus.events.list({ type: 'alarm.raised' })
  for (let i = 0; i < 2; i++) {
    await s.kronus.queue.enqueue('events.deliver', {
      subscriber: 'emergency-contact:alarm-history',
      eventId: raised!.id
    })
    await s.kronus.queue.drain()
  }
  t.equal(s.channel.sent.length, sentBefore)
  t.equal((await linksOf(s, probeId)).length, 2)
  t.equal((await payloads(s, 'emergency-contact.alerted')).length, 1)
})

t.test('no emergency contact: the unreachable event, and the user told to call for help', async (t) => {
  const s = await buildAlertKronus(t)
  const probeId = await answerNo(s)
  await s.kronus.queue.drain()
  t.same(await payloads(s, 'emergency-contact.unreachable'), [
    { userId: s.user.id, probeId, status: 'bad', reason: 'no_emergency_contact', contacts: [] }
  ])
  t.same(await linksOf(s, probeId), [])
})

t.test('an alarm raised just before a crash is relayed by the next process', async (t) => {
  const logs: LogLine[] = []
  const first = await buildKronus(t, { config: { plugins: [emergencyContactLoggingTo(logs)] } })
  const s: AlertSetup = { kronus: first, channel: new RecordingChannel(), logs, user: undefined as never }
  first.messaging.registerChannel(s.channel)
  const admin = await createAdmin(first)
  s.user = await createUser(first, admin, { first_name: 'Ada', last_name: 'Lovelace' })
  const grace = await emergencyContactOf(s, 'Grace', 'Hopper')
  const probeId = await answerNo(s)
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
    [/^Your alert was sent to Grace Hopper/]
  )
  t.same(
    (await second.knex('emergency_probes').where({ probe_id: probeId })).map((r: any) => Number(r.contact_id)),
    [grace.id]
  )
})
