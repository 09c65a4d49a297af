import t from 'tap'
import {
  buildScenario,
  checkIn,
  emergencyContactOf,
  MINUTE,
  type Scenario,
  text,
  turnCheckInsOn,
  wait
} from '../../../alarms/harness.js'
import { call, createUser, type TestUser } from '../../../helpers/http.js'
import { schemaError } from '../alarms/fixtures.js'

async function statusOf(s: Scenario, user: TestUser, token = user.token): Promise<any> {
  const url = `/v1/users/${user.id}/status`
  const res = await call(s.kronus, { url, token })
  if (res.statusCode !== 200) throw new Error(`status: ${res.statusCode} ${res.payload}`)
  const problem = schemaError(s.kronus, 'GET', url, res)
  if (problem) throw problem
  return res.body.data
}

t.test("a user's status follows their check-ins: off, unknown, waiting, ok, paused, alarm, not_ok", async (t) => {
  const s = await buildScenario(t)
  const ada = s.user
  t.strictSame(
    await statusOf(s, ada),
    {
      state: 'off',
      aliveness: 'unknown',
      last_checkin: null,
      waiting_checkin: null,
      open_alarm: null,
      next_checkin_at: null,
      paused_until: null,
      checks_on: false
    },
    'a new user: check-ins off, nothing known'
  )

  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s, '0 18 * * *')
  t.match(
    await statusOf(s, ada),
    { state: 'unknown', checks_on: true, next_checkin_at: '2026-01-05T18:00:00.000Z' },
    'check-ins on, no outcome yet'
  )

  // The scenario's check-ins: 1 follow-up, 10 minutes apart (turnCheckInsOn), on demand with 2.
  await checkIn(s, ada, 1)
  const waiting = await statusOf(s, ada)
  t.equal(waiting.state, 'waiting')
  const probeId = waiting.waiting_checkin.id
  t.strictSame(waiting.waiting_checkin, {
    id: probeId,
    sent_at: new Date(s.kronus.clock.now()).toISOString(),
    follow_ups_sent: 0,
    next_follow_up_at: new Date(s.kronus.clock.now() + 10 * MINUTE).toISOString()
  })
  await wait(s, 10)
  t.match(
    (await statusOf(s, ada)).waiting_checkin,
    { id: probeId, follow_ups_sent: 1, next_follow_up_at: null },
    'after the last follow-up, none is left'
  )

  await text(s, ada.phone_number, 'Y')
  const ok = await statusOf(s, ada)
  t.match(ok, {
    state: 'ok',
    aliveness: 'good',
    last_checkin: { id: probeId, status: 'good', at: new Date(s.kronus.clock.now()).toISOString() },
    waiting_checkin: null,
    open_alarm: null
  })

  const until = '2026-01-07T00:00:00.000Z'
  const pause = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${ada.id}/probe_settings`,
    token: ada.token,
    payload: { paused_until: until }
  })
  t.equal(pause.statusCode, 200)
  t.match(
    await statusOf(s, ada),
    { state: 'paused', paused_until: until, checks_on: true, next_checkin_at: '2026-01-07T18:00:00.000Z' },
    'paused: the next check-in is the first after the pause'
  )
  await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${ada.id}/probe_settings`,
    token: ada.token,
    payload: { paused_until: null }
  })

  await checkIn(s, ada, 1)
  await text(s, ada.phone_number, 'N')
  const alarm = await statusOf(s, ada)
  const [row] = await s.kronus.knex('alarms').where({ user_id: ada.id })
  t.strictSame(alarm.open_alarm, {
    id: Number(row.id),
    code: row.code,
    state: 'open',
    trigger: 'said_no',
    opened_at: new Date(Number(row.created_at)).toISOString()
  })
  t.match(alarm, { state: 'alarm', aliveness: 'bad', last_checkin: { status: 'bad' } })
  t.strictSame(await statusOf(s, ada, s.admin.token), alarm, 'the admin sees the same')

  const resolved = await call(s.kronus, {
    method: 'POST',
    url: `/v1/alarms/${row.id}/resolve`,
    token: s.admin.token,
    payload: { note: 'spoke with Ada' }
  })
  t.equal(resolved.statusCode, 200)
  t.match(
    await statusOf(s, ada),
    { state: 'not_ok', aliveness: 'bad', open_alarm: null },
    'no alarm left, last outcome bad'
  )
})

t.test('STOP from the user: an alarm that Kronus cannot reach them, then off', async (t) => {
  const s = await buildScenario(t)
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await text(s, s.user.phone_number, 'STOP')
  const stopped = await statusOf(s, s.user)
  t.match(stopped, { state: 'alarm', open_alarm: { trigger: 'unreachable' }, checks_on: false, next_checkin_at: null })
  const resolved = await call(s.kronus, {
    method: 'POST',
    url: `/v1/alarms/${stopped.open_alarm.id}/resolve`,
    token: s.admin.token,
    payload: { note: 'she wants no texts' }
  })
  t.equal(resolved.statusCode, 200)
  t.match(await statusOf(s, s.user), { state: 'off', open_alarm: null })
})

t.test('a duress alarm: the user sees their status as if there were none; an admin sees the alarm', async (t) => {
  const s = await buildScenario(t)
  const ada = s.user
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  const word = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${ada.id}/escalation`,
    token: ada.token,
    payload: { duress_word: 'blue heron' }
  })
  t.equal(word.statusCode, 200)
  await checkIn(s, ada, 1)
  await text(s, ada.phone_number, 'blue heron')
  const [row] = await s.kronus.knex('alarms').where({ user_id: ada.id })
  t.equal(row.trigger, 'duress')

  const own = await statusOf(s, ada)
  t.match(own, { state: 'ok', aliveness: 'good', open_alarm: null }, 'to Ada: answered OK, no alarm')
  const byAdmin = await statusOf(s, ada, s.admin.token)
  t.match(byAdmin, { state: 'alarm', open_alarm: { id: Number(row.id), trigger: 'duress', state: 'open' } })
  const listed = await call(s.kronus, { url: '/v1/statuses?state=alarm', token: s.admin.token })
  t.same(
    listed.body.data.map((x: any) => x.user.id),
    [ada.id],
    "the admins' list counts it"
  )
})

t.test('self or admin only; an unknown user is a 404 for the admin', async (t) => {
  const s = await buildScenario(t)
  const other = await createUser(s.kronus, s.admin)
  const res = await call(s.kronus, { url: `/v1/users/${s.user.id}/status`, token: other.token })
  t.equal(res.statusCode, 403)
  t.equal((await call(s.kronus, { url: '/v1/users/9999/status', token: s.admin.token })).statusCode, 404)
  t.equal((await call(s.kronus, { url: '/v1/users/abc/status', token: s.admin.token })).statusCode, 400)
  t.equal((await call(s.kronus, { url: `/v1/users/${s.user.id}/status` })).statusCode, 401)
})
