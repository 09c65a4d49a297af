import t from 'tap'
import { probeTexts } from '../../../../src/probes/messages.js'
import { call, createContact, createUser } from '../../../helpers/http.js'
import { advance, buildProbeKronus, eventsOf, probedUser, probesOf, textsTo } from '../../../probes/harness.js'

const MINUTE = 60_000

t.test('with the defaults the probe starts in 5 minutes, with 3 follow-ups 10 minutes apart', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  const now = h.kronus.clock.now()
  const res = await call(h.kronus, { method: 'POST', url: `/v1/users/${user.id}/probes`, token: user.token })
  t.equal(res.statusCode, 202, res.payload)
  t.same(res.body, { success: true, data: { starts_at: new Date(now + 5 * MINUTE).toISOString(), probe: null } })

  await advance(h, 4)
  t.same(textsTo(h, user.phone_number), [], 'not yet')
  await advance(h, 1)
  t.same(textsTo(h, user.phone_number), [probeTexts.ask(user.record.first_name)])
  const [probe] = await probesOf(h.kronus.knex, user.id)
  t.match(probe, { status: 'pending', origin: 'on_demand' })
  t.same(await eventsOf(h, user.id, 'probe.started'), [
    { userId: user.id, probeId: probe!.id, origin: 'on_demand', maxRetries: 3, waitTimeInMinutes: 10 }
  ])

  for (let i = 0; i < 3; i++) await advance(h, 10)
  t.equal(textsTo(h, user.phone_number).length, 4)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 3 }])
  await advance(h, 10)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'unavailable' }])
})

t.test('in_minutes 0 asks at once and answers 201 with the probe', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  const res = await call(h.kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/probes`,
    token: user.token,
    payload: { in_minutes: 0, retries: 0, wait_minutes: 5 }
  })
  t.equal(res.statusCode, 201, res.payload)
  t.match(res.body.data, {
    starts_at: new Date(h.kronus.clock.now()).toISOString(),
    probe: { user_id: user.id, retry_count: 0, last_response: '', status: { name: 'pending' }, emergency_probe: null }
  })
  for (const hidden of ['pending_user_id', 'max_retries', 'wait_time_in_minutes', 'origin', 'start_key'])
    t.notOk(hidden in res.body.data.probe, `${hidden} stays internal`)
  await h.kronus.queue.drain()
  t.equal(textsTo(h, user.phone_number).length, 1)
  await advance(h, 5)
  t.match(
    await probesOf(h.kronus.knex, user.id),
    [{ status: 'unavailable', retry_count: 0 }],
    'retries 0 and a 5-minute wait were used'
  )
})

t.test('an emergency contact is required', async (t) => {
  const h = await buildProbeKronus(t)
  const { admin } = await probedUser(h)
  const lonely = await createUser(h.kronus, admin)
  await createContact(h.kronus, lonely, { is_emergency_contact: false })
  const res = await call(h.kronus, {
    method: 'POST',
    url: `/v1/users/${lonely.id}/probes`,
    token: lonely.token,
    payload: { in_minutes: 0 }
  })
  t.equal(res.statusCode, 403)
  t.match(res.body.errors, [/emergency contact/])
  t.same(await probesOf(h.kronus.knex, lonely.id), [])
})

t.test('only for yourself: another user and the admin are refused, no token is 401', async (t) => {
  const h = await buildProbeKronus(t)
  const { admin, user } = await probedUser(h)
  const other = await createUser(h.kronus, admin)
  t.equal(
    (
      await call(h.kronus, {
        method: 'POST',
        url: `/v1/users/${user.id}/probes`,
        token: other.token,
        payload: { in_minutes: 0 }
      })
    ).statusCode,
    403
  )
  t.equal(
    (
      await call(h.kronus, {
        method: 'POST',
        url: `/v1/users/${user.id}/probes`,
        token: admin.token,
        payload: { in_minutes: 0 }
      })
    ).statusCode,
    403
  )
  t.equal(
    (await call(h.kronus, { method: 'POST', url: `/v1/users/${user.id}/probes`, payload: { in_minutes: 0 } }))
      .statusCode,
    401
  )
  t.same(await probesOf(h.kronus.knex, user.id), [])
})

t.test('bad values are a 400 that names the field', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ in_minutes: 1441 }, 'in_minutes'],
    [{ in_minutes: -1 }, 'in_minutes'],
    [{ in_minutes: 'soon' }, 'in_minutes'],
    [{ in_minutes: 2.5 }, 'in_minutes'],
    [{ retries: 7 }, 'retries'],
    [{ retries: -1 }, 'retries'],
    [{ wait_minutes: 4 }, 'wait_minutes'],
    [{ wait_minutes: 121 }, 'wait_minutes']
  ]
  for (const [payload, field] of cases) {
    const res = await call(h.kronus, { method: 'POST', url: `/v1/users/${user.id}/probes`, token: user.token, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.body.errors.join(' '), field, `${JSON.stringify(payload)} names ${field}`)
  }
  const malformed = await call(h.kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/probes`,
    token: user.token,
    payload: '{"in_minutes":',
    headers: { 'content-type': 'application/json' }
  })
  t.equal(malformed.statusCode, 400, 'malformed JSON')
  t.same(await probesOf(h.kronus.knex, user.id), [])
  t.same(await h.kronus.knex('jobs').where({ name: 'probe.start_on_demand' }), [], 'nothing was scheduled')
})

t.test('one pending probe at a time: asking now while one waits is a 409 and costs nothing', async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 2 } } })
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  t.equal(
    (await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0 } })).statusCode,
    201
  )
  const conflict = await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0 } })
  t.equal(conflict.statusCode, 409)
  t.match(conflict.body.errors, [/already pending/])
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1)
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  t.equal(
    (await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0 } })).statusCode,
    201,
    'the refused request did not use up the allowance'
  )
})

t.test('a later probe whose time comes while another is pending is skipped', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  t.equal(
    (await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 5 } })).statusCode,
    202
  )
  t.equal(
    (await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0, wait_minutes: 60 } }))
      .statusCode,
    201
  )
  await advance(h, 5)
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1, 'no second probe')
  t.equal(textsTo(h, user.phone_number).length, 1, 'no second ask')
})

t.test("the daily cap counts requests per calendar day in the user's time zone", async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 2 } } })
  const { user } = await probedUser(h)
  const tz = await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { time_zone: 'America/Toronto' }
  })
  t.equal(tz.statusCode, 200)
  const url = `/v1/users/${user.id}/probes`
  const ask = () => call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 60 } })

  // 2026-01-05 12:00 UTC is 07:00 in Toronto; the Toronto day ends at 05:00 UTC on the 6th.
  t.equal((await ask()).statusCode, 202)
  t.equal((await ask()).statusCode, 202)
  const refused = await ask()
  t.equal(refused.statusCode, 429)
  t.match(refused.body.errors, [/at most 2 on-demand probes a day/])
  t.equal(refused.headers['retry-after'], String(17 * 3600))
  t.equal(
    await h.kronus
      .knex('jobs')
      .where({ name: 'probe.start_on_demand' })
      .count({ n: '*' })
      .first()
      .then((r: any) => Number(r.n)),
    2,
    'the refused one was not scheduled'
  )

  h.kronus.clock.set('2026-01-06T04:59:00Z') // past UTC midnight, still the 5th in Toronto
  t.equal((await ask()).statusCode, 429)
  h.kronus.clock.set('2026-01-06T05:00:00Z')
  t.equal((await ask()).statusCode, 202, 'a new day in Toronto')
})

t.test('the cap is per user', async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 1 } } })
  const { admin, user } = await probedUser(h)
  const other = await createUser(h.kronus, admin)
  await createContact(h.kronus, other, { is_emergency_contact: true })
  t.equal(
    (await call(h.kronus, { method: 'POST', url: `/v1/users/${user.id}/probes`, token: user.token })).statusCode,
    202
  )
  t.equal(
    (await call(h.kronus, { method: 'POST', url: `/v1/users/${user.id}/probes`, token: user.token })).statusCode,
    429
  )
  t.equal(
    (await call(h.kronus, { method: 'POST', url: `/v1/users/${other.id}/probes`, token: other.token })).statusCode,
    202
  )
})
