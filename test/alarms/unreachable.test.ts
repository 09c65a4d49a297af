import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FakeClock } from '../../src/clock.js'
import { call } from '../helpers/http.js'
import {
  alarmContacts,
  alarmsOf,
  buildScenario,
  checkIn,
  emergencyContactOf,
  probeSettingsActive,
  receipt,
  text,
  textsTo,
  timedTextsTo,
  turnCheckInsOn,
  wait
} from './harness.js'

/* People Kronus cannot text, users deleted, and restarts: an alarm raised still reaches a person. */

t.test("the user's STOP while a check-in waits: contacts told at once; check-ins off", async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await checkIn(s)
  const reply = await text(s, s.user.phone_number, 'STOP')
  t.match(reply, /^Kronus check-ins are off/, 'the carrier keyword handler still answers')
  t.notOk(await probeSettingsActive(s))
  const [alarm] = await alarmsOf(s)
  t.equal(alarm.trigger, 'unreachable')
  t.match(
    textsTo(s, mary.phone_number)[0],
    'Kronus can no longer text Ada (they texted STOP while a check-in waited: check-ins are off), so it cannot check on them.'
  )
  t.same(textsTo(s, s.user.phone_number).slice(1), [], 'nothing more is texted to a user who said STOP')
  // Only once.
  await text(s, s.user.phone_number, 'STOP')
  t.equal(textsTo(s, mary.phone_number).length, 1)
})

t.test("the user's STOP while an alarm is open does not cancel it", async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  await text(s, s.user.phone_number, 'STOP')
  const alarms = await alarmsOf(s)
  t.equal(alarms.length, 1)
  t.equal(alarms[0].status, 'open')
  await wait(s, 10)
  t.match(textsTo(s, mary.phone_number).at(-1), 'nobody has yet confirmed', 'escalation goes on')
})

t.test('a contact texts STOP: marked, the user told, and never texted an alert again', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  t.equal(
    await text(s, mary.phone_number, 'stop'),
    'You will get no more texts from Kronus. If someone counts on you as an emergency contact, they have been told. Reply START to get alerts again.'
  )
  const row = await s.kronus.knex('contacts').where({ id: mary.id }).first()
  t.ok(row.sms_opted_out_at)
  t.equal(
    textsTo(s, s.user.phone_number).at(-1),
    `Your emergency contact Mary Contact (${mary.phone_number}) texted STOP, so Kronus can no longer text them an alert. Ask them to text START, or choose another emergency contact in Kronus.`
  )
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  t.same(textsTo(s, mary.phone_number), [], 'Mary gets no alert')
  t.equal(textsTo(s, carl.phone_number).length, 1)
  const [alarm] = await alarmsOf(s)
  t.same(
    (await alarmContacts(s, alarm.id)).map((c) => [c.name, c.state, c.error]),
    [
      ['Mary Contact', 'undelivered', 'opted out (texted STOP)'],
      ['Carl Contact', 'sent', null]
    ],
    'she is recorded on the alarm, not texted'
  )
  t.match(textsTo(s, s.user.phone_number).at(-1), 'It could not reach Mary Contact.')
})

t.test("the user's number cannot receive texts: contacts told at once, not a cycle later", async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await receipt(s, 'message.failed', {
    to: s.user.phone_number,
    text: 'Are you OK Ada? Reply Y or N.',
    userId: s.user.id,
    channel: 'twilio',
    error: '21614: To number is not a valid mobile number',
    permanent: true
  })
  const [alarm] = await alarmsOf(s)
  t.equal(alarm.trigger, 'unreachable')
  t.same(
    timedTextsTo(s, mary.phone_number).map(([m, text]) => [m, /Kronus can no longer text Ada/.test(text)]),
    [[0, true]]
  )
  const deliveries = await s.kronus.knex('jobs').where({ name: 'events.deliver' }).select('payload', 'priority')
  const unreachable = deliveries.filter((job) => {
    const payload = typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload
    return payload.subscriber === 'alarms:user-unreachable'
  })
  t.same(
    unreachable.map((job) => Number(job.priority)),
    [10],
    "its delivery had an alarm's priority: no other subscriber's backlog stands before it"
  )
  // A second failure tells nobody again.
  await receipt(s, 'message.undelivered', {
    to: s.user.phone_number,
    userId: s.user.id,
    channel: 'twilio',
    messageId: 'SM9',
    ref: null,
    status: 'undelivered',
    errorCode: 30006,
    error: 'Landline'
  })
  t.equal(textsTo(s, mary.phone_number).length, 1)
  t.equal((await alarmsOf(s)).length, 1)
})

t.test('N and the user deleted right after: the alerts still go out', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  // The reply and the deletion, with no job run in between.
  const { reply } = await s.kronus.messaging.receive({
    from: s.user.phone_number,
    text: 'N',
    channel: 'twilio',
    messageId: null
  })
  t.equal(reply, 'We are alerting your emergency contacts now.')
  const res = await call(s.kronus, {
    method: 'DELETE',
    url: `/v1/users/${s.user.id}?force=true`,
    token: s.admin.token
  })
  t.ok([200, 204].includes(res.statusCode), `deleted: ${res.statusCode}`)
  await wait(s, 1)
  t.equal(textsTo(s, mary.phone_number).length, 1, 'Mary was alerted')
  t.match(textsTo(s, mary.phone_number)[0], 'Ada answered that they are NOT OK')
  await wait(s, 10)
  t.equal(textsTo(s, mary.phone_number).length, 2, 'and escalation goes on')
})

t.test('a restart mid-escalation: the next Kronus on the same database carries on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-alarm-restart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new FakeClock()
  const first = await buildScenario(t, { dir, clock })
  const mary = await emergencyContactOf(first, 'Mary')
  await checkIn(first)
  await text(first, first.user.phone_number, 'N')
  const [alarm] = await alarmsOf(first)
  await wait(first, 5)
  t.equal(textsTo(first, mary.phone_number).length, 1)
  await first.kronus.stop()

  const second = await buildScenario(t, { dir, clock, start: first.start, users: false })
  second.user = first.user
  await wait(second, 5)
  t.same(
    timedTextsTo(second, mary.phone_number).map(([m]) => m),
    [10],
    'the reminder is sent on time by the new process'
  )
  t.match(await text(second, mary.phone_number, `OK ${alarm.code}`), /^Thank you Mary/)
  t.equal((await alarmsOf(second))[0].status, 'acknowledged')
})
