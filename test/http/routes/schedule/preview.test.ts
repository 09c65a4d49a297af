import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, login } from '../../../helpers/http.js'
import { schemaError } from '../alarms/fixtures.js'

const preview = (cron: string, zone?: string) =>
  `/v1/schedule/preview?cron_expression=${encodeURIComponent(cron)}${zone ? `&time_zone=${encodeURIComponent(zone)}` : ''}`

t.test('a schedule in plain words with its next five fires, in the zone asked for', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  // The fake clock starts on Monday 2026-01-05 at 12:00 UTC (13:00 in Paris).
  const url = preview('0 8-20/2 * * 1-5', 'Europe/Paris')
  const res = await call(kronus, { url, token: user.token })
  t.equal(res.statusCode, 200)
  t.error(schemaError(kronus, 'GET', url, res), 'the body matches the documented schema')
  t.strictSame(res.body, {
    success: true,
    data: {
      cron_expression: '0 8-20/2 * * 1-5',
      time_zone: 'Europe/Paris',
      description: 'Every 2 hours, from 08:00 to 20:00, Monday to Friday',
      next: [
        '2026-01-05T14:00:00+01:00',
        '2026-01-05T16:00:00+01:00',
        '2026-01-05T18:00:00+01:00',
        '2026-01-05T20:00:00+01:00',
        '2026-01-06T08:00:00+01:00'
      ]
    }
  })
  const west = await call(kronus, { url: preview('30 9 * * sat', 'America/Toronto'), token: admin.token })
  t.same(
    west.body.data.next.slice(0, 2),
    ['2026-01-10T09:30:00-05:00', '2026-01-17T09:30:00-05:00'],
    'offsets west of UTC'
  )
  t.equal(west.body.data.description, 'At 09:30, every Saturday')
})

t.test('without a zone, the caller’s own zone (else kronus.cron.timeZone)', async (t) => {
  const kronus = await buildKronus(t, { config: { kronus: { cron: { timeZone: 'Asia/Kolkata' } } } })
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const before = await call(kronus, { url: preview('0 18 * * *'), token: user.token })
  t.equal(before.body.data.time_zone, 'Asia/Kolkata', 'no zone of their own: the configured one')
  t.equal(before.body.data.next[0], '2026-01-05T18:00:00+05:30')

  const put = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { time_zone: 'Pacific/Auckland' }
  })
  t.equal(put.statusCode, 200)
  const after = await call(kronus, { url: preview('0 18 * * *'), token: user.token })
  t.equal(after.body.data.time_zone, 'Pacific/Auckland')
  // 12:00 UTC is 01:00 on 6 January in Auckland (UTC+13 in summer).
  t.equal(after.body.data.next[0], '2026-01-06T18:00:00+13:00')
  const admins = await call(kronus, { url: preview('0 18 * * *'), token: admin.token })
  t.equal(admins.body.data.time_zone, 'Asia/Kolkata', "the caller's zone, not another user's")
})

t.test('next fires across daylight saving time are the ones the scheduler uses', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)

  // Paris springs forward on 29 March 2026 at 02:00: 02:30 does not exist that night and
  // fires once, when the clocks jump.
  // Tokens last an hour: sign in again after each jump of the clock.
  const signIn = () => login(kronus, admin.email, admin.password)
  kronus.clock.set('2026-03-27T00:00:00Z')
  const spring = await call(kronus, { url: preview('30 2 * * *', 'Europe/Paris'), token: await signIn() })
  t.strictSame(spring.body.data.next, [
    '2026-03-27T02:30:00+01:00',
    '2026-03-28T02:30:00+01:00',
    '2026-03-29T03:00:00+02:00',
    '2026-03-30T02:30:00+02:00',
    '2026-03-31T02:30:00+02:00'
  ])

  // Paris falls back on 25 October 2026 at 03:00: 02:00 happens twice and fires once, at the first.
  kronus.clock.set('2026-10-24T23:30:00Z') // 01:30 in Paris
  const autumn = await call(kronus, { url: preview('0 * * * *', 'Europe/Paris'), token: await signIn() })
  t.equal(autumn.statusCode, 200)
  t.strictSame(autumn.body.data.next, [
    '2026-10-25T02:00:00+02:00',
    '2026-10-25T03:00:00+01:00',
    '2026-10-25T04:00:00+01:00',
    '2026-10-25T05:00:00+01:00',
    '2026-10-25T06:00:00+01:00'
  ])

  // New York springs forward on 8 March 2026 at 02:00.
  kronus.clock.set('2026-03-07T12:00:00Z') // 07:00 in New York
  const ny = await call(kronus, { url: preview('0 9 * * *', 'America/New_York'), token: await signIn() })
  t.strictSame(ny.body.data.next.slice(0, 3), [
    '2026-03-07T09:00:00-05:00',
    '2026-03-08T09:00:00-04:00',
    '2026-03-09T09:00:00-04:00'
  ])
  t.equal(ny.body.data.next.length, 5)
})

t.test('a cron PUT probe_settings refuses is refused with the same 400 and message', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const cron of ['0 9 * *', '61 9 * * *', 'every day', '0 9 30 2 *', '*/30 * * * *', '0,59 * * * *']) {
    const res = await call(kronus, { url: preview(cron, 'UTC'), token: admin.token })
    const put = await call(kronus, {
      method: 'PUT',
      url: `/v1/users/${admin.id}/probe_settings`,
      token: admin.token,
      payload: { cron_expression: cron }
    })
    t.equal(res.statusCode, 400, cron)
    t.equal(put.statusCode, 400, `${cron}: PUT`)
    t.match(res.body.errors[0], /cron_expression/, `${cron}: the message names the field`)
    t.strictSame(res.body, put.body, `${cron}: the same answer as PUT probe_settings`)
  }
  const often = await call(kronus, { url: preview('*/30 * * * *'), token: admin.token })
  t.strictSame(often.body.errors, [
    'cron_expression fires 30 minutes apart at its closest; limits.minCheckInIntervalMinutes is 60'
  ])
})

t.test('a lower limit lets the preview show a more frequent schedule', async (t) => {
  const kronus = await buildKronus(t, { config: { limits: { minCheckInIntervalMinutes: 15 } } })
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { url: preview('*/15 9 * * *', 'UTC'), token: admin.token })
  t.equal(res.statusCode, 200)
  t.equal(res.body.data.description, 'Every 15 minutes, from 09:00 to 09:45, every day')
  t.strictSame(res.body.data.next, [
    '2026-01-06T09:00:00+00:00',
    '2026-01-06T09:15:00+00:00',
    '2026-01-06T09:30:00+00:00',
    '2026-01-06T09:45:00+00:00',
    '2026-01-07T09:00:00+00:00'
  ])
})

t.test('a missing cron or an unknown zone is a 400 naming its field', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const missing = await call(kronus, { url: '/v1/schedule/preview', token: admin.token })
  t.equal(missing.statusCode, 400)
  t.match(missing.body.errors[0], /cron_expression/)
  const zone = await call(kronus, { url: preview('0 9 * * *', 'Mars/Olympus'), token: admin.token })
  t.equal(zone.statusCode, 400)
  t.match(zone.body, { success: false, errors: [/"time_zone" must be an IANA time zone/] })
  const noToken = await call(kronus, { url: preview('0 9 * * *') })
  t.equal(noToken.statusCode, 401)
})
