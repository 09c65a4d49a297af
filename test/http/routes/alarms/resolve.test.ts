import t, { type Test } from 'tap'
import {
  alarmsOf,
  buildScenario,
  checkIn,
  emergencyContactOf,
  text,
  textsTo,
  turnCheckInsOn,
  wait
} from '../../../alarms/harness.js'
import { call } from '../../../helpers/http.js'

/* An administrator closes an alarm that nobody else will end: who is told what, and what is refused. */

async function alarmAfterNo(t: Test) {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  await wait(s, 1)
  const [alarm] = await alarmsOf(s)
  return { s, mary, alarm }
}

t.test('an admin closes an open alarm: contacts and user told who closed it and why, check-ins back on', async (t) => {
  const { s, mary, alarm } = await alarmAfterNo(t)
  const admin = s.admin.record
  const before = textsTo(s, mary.phone_number).length
  const res = await call(s.kronus, {
    method: 'POST',
    url: `/v1/alarms/${alarm.id}/resolve`,
    token: s.admin.token,
    payload: { note: 'Ada called the office; she pressed N by mistake.' }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { id: alarm.id, status: 'resolved', resolved_reason: 'admin' })
  t.match(res.body.data.timeline.at(-1), { kind: 'resolved' })
  await wait(s, 1)
  const toMary = textsTo(s, mary.phone_number).slice(before)
  t.equal(toMary.length, 1, 'Mary gets one text')
  t.match(toMary[0], `was closed by ${admin.first_name} ${admin.last_name}, who runs Kronus`)
  t.match(toMary[0], '"Ada called the office; she pressed N by mistake."')
  t.notMatch(toMary[0], /is safe|all clear/i, 'an admin closing an alarm claims nothing about Ada')
  const toAda = textsTo(s, s.user.phone_number).at(-1)
  t.match(toAda, 'closed your alarm: "Ada called the office; she pressed N by mistake."')
  t.match(toAda, 'Your check-ins are back on.')
  const events = await s.kronus.events.list({ type: 'alarm.resolved' })
  t.match(
    events.map((e) => e.payload),
    [{ alarmId: alarm.id, reason: 'admin' }]
  )
})

t.test('closing is refused: not an admin, no note, unknown alarm, already resolved', async (t) => {
  const { s, alarm } = await alarmAfterNo(t)
  const url = `/v1/alarms/${alarm.id}/resolve`
  const byUser = await call(s.kronus, { method: 'POST', url, token: s.user.token, payload: { note: 'all fine' } })
  t.equal(byUser.statusCode, 403, 'the user ends their alarm by texting OK, not through this route')
  const noNote = await call(s.kronus, { method: 'POST', url, token: s.admin.token, payload: {} })
  t.equal(noNote.statusCode, 400)
  t.match(noNote.body.message ?? noNote.body.error?.message ?? JSON.stringify(noNote.body), /note/)
  const unknown = await call(s.kronus, {
    method: 'POST',
    url: `/v1/alarms/${alarm.id + 1000}/resolve`,
    token: s.admin.token,
    payload: { note: 'a false alarm' }
  })
  t.equal(unknown.statusCode, 404)
  t.same(
    (await alarmsOf(s)).map((a) => a.status),
    ['open'],
    'nothing changed by the refusals'
  )

  await text(s, s.user.phone_number, 'Y')
  const again = await call(s.kronus, { method: 'POST', url, token: s.admin.token, payload: { note: 'a false alarm' } })
  t.equal(again.statusCode, 409)
  t.match((await alarmsOf(s))[0], { status: 'resolved', resolved_reason: 'user_ok' }, "the user's all-clear stands")
})
