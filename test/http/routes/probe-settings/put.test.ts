import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact } from '../../../helpers/http.js'

t.test("the seed README's request turns probes on, once there is an emergency contact", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/probe_settings`
  // The README's curl sends no Content-Type header; inject adds none for a string body.
  const body = '{ "cron_expression": "0 18 * * */1", "active": true }'

  const refused = await call(kronus, { method: 'PUT', url, token: admin.token, payload: body })
  t.equal(refused.statusCode, 403, 'no emergency contact yet')
  t.match(refused.body.errors[0], /emergency contact/)

  await createContact(kronus, admin, { is_emergency_contact: false })
  t.equal(
    (await call(kronus, { method: 'PUT', url, token: admin.token, payload: body })).statusCode,
    403,
    'a contact that is not an emergency contact is not enough'
  )

  await createContact(kronus, admin, { is_emergency_contact: true })
  kronus.clock.advanceMinutes(3)
  const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload: body })
  t.equal(res.statusCode, 200)
  t.match(res.body, {
    success: true,
    data: {
      id: admin.record.probe_settings.id,
      user_id: admin.id,
      active: true,
      cron_expression: '0 18 * * */1',
      max_retries: 3,
      wait_time_in_minutes: 60
    }
  })
  t.equal(res.body.data.created_at, admin.record.probe_settings.created_at)
  t.equal(Date.parse(res.body.data.updated_at), kronus.clock.now())
  // 2026-01-05 12:03 UTC: the next 18:00 is the same day.
  t.equal(res.body.data.next_fire_at, '2026-01-05T18:00:00.000Z', 'the next fire is stored with the change')

  const user = await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })
  t.same(user.body.data.probe_settings, res.body.data, 'the user record shows the same settings')
})

t.test('curl and fetch content types carry JSON too', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const type of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8']) {
    const res = await call(kronus, {
      method: 'PUT',
      url: `/v1/users/${admin.id}/probe_settings`,
      token: admin.token,
      headers: { 'content-type': type },
      payload: '{"max_retries": 2}'
    })
    t.equal(res.statusCode, 200, type)
    t.equal(res.body.data.max_retries, 2)
  }
})

t.test('every field is validated, and the 400 names the field', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const invalid: Record<string, unknown[]> = {
    active: ['yes', 'true', 1, null],
    cron_expression: ['', 'every day', '0 18 * *', '0 18 * * 3 2026', '61 * * * *', '0 25 * * *', '0 0 31 2 *', 5],
    max_retries: [7, -1, 2.5, 'three', null],
    wait_time_in_minutes: [4, 121, 0, 30.5, 'sixty'],
    time_zone: ['Mars/Olympus', 'EST5EDT6', '', 3],
    quiet_hours: [
      '22:00-07:00',
      { start: '22:00' },
      { start: '24:00', end: '07:00' },
      { start: '7:00', end: '22:00' },
      { start: '22:00', end: '22:00' }
    ],
    paused_until: ['2026-01-04T12:00:00Z', '2026-01-10', 'next week', 17]
  }
  for (const [field, values] of Object.entries(invalid)) {
    for (const value of values) {
      const res = await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { [field]: value }
      })
      t.equal(res.statusCode, 400, `${field}=${JSON.stringify(value)}`)
      t.match(res.body.errors.join(' '), field, `${field}=${JSON.stringify(value)}: names the field`)
    }
  }
  const user = await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })
  t.same(user.body.data.probe_settings, admin.record.probe_settings, 'nothing changed')
})

t.test('limits and time zones that are valid are stored', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/probe_settings`
  const res = await call(kronus, {
    method: 'PUT',
    url,
    token: admin.token,
    payload: { max_retries: 6, wait_time_in_minutes: 5, time_zone: 'America/Toronto' }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { max_retries: 6, wait_time_in_minutes: 5, time_zone: 'America/Toronto', active: false })
  const upper = await call(kronus, {
    method: 'PUT',
    url,
    token: admin.token,
    payload: { max_retries: 0, wait_time_in_minutes: 120, time_zone: null }
  })
  t.match(upper.body.data, { max_retries: 0, wait_time_in_minutes: 120, time_zone: null })
})

t.test('an update with no known field is a 400; id and user_id are ignored', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/probe_settings`
  for (const payload of [{}, { id: 3, user_id: 9 }, { next_fire_at: '2030-01-01T00:00:00Z' }]) {
    const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
  }
  const res = await call(kronus, {
    method: 'PUT',
    url,
    token: admin.token,
    payload: { max_retries: 1, id: 3, user_id: 9 }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { id: admin.record.probe_settings.id, user_id: admin.id, max_retries: 1 })
})

t.test('turning probes off clears the next fire', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  await createContact(kronus, admin, { is_emergency_contact: true })
  const url = `/v1/users/${admin.id}/probe_settings`
  t.ok(
    (await call(kronus, { method: 'PUT', url, token: admin.token, payload: { active: true } })).body.data.next_fire_at
  )
  const off = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { active: false } })
  t.equal(off.body.data.active, false)
  t.equal(off.body.data.next_fire_at, null)
})

t.test('a cron firing more often than limits.minCheckInIntervalMinutes is a 400 naming the limit', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/probe_settings`
  for (const [cron, gap] of [
    ['* * * * *', 1],
    ['*/30 * * * *', 30],
    ['0,45 9 * * 1', 45]
  ] as const) {
    const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { cron_expression: cron } })
    t.equal(res.statusCode, 400, cron)
    t.equal(
      res.body.errors[0],
      `cron_expression fires ${gap} minute${gap === 1 ? '' : 's'} apart at its closest; limits.minCheckInIntervalMinutes is 60`
    )
  }
  for (const cron of ['0 * * * *', '0 9,10 * * *', '0 18 * * 3']) {
    const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { cron_expression: cron } })
    t.equal(res.statusCode, 200, `${cron} is accepted`)
  }
})

t.test('quiet hours are stored and shown as {start, end}, and null removes them', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/probe_settings`
  t.same(admin.record.probe_settings.quiet_hours, null)
  t.same(admin.record.probe_settings.paused_until, null)
  const quiet = { start: '22:30', end: '06:45' }
  const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { quiet_hours: quiet } })
  t.equal(res.statusCode, 200)
  t.same(res.body.data.quiet_hours, quiet)
  t.notOk('quiet_hours_start' in res.body.data, 'the columns are not shown')
  const user = await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })
  t.same(user.body.data.probe_settings.quiet_hours, quiet)
  const cleared = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { quiet_hours: null } })
  t.same(cleared.body.data.quiet_hours, null)
})
