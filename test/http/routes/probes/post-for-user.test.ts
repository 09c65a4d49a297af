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
  t.same(res.body, {
    success: true,
    data: { starts_at: new Date(now + 5 * MINUTE).toISOString(), probe: null, merged: false, check_in_waiting: false }
  })

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

t.test('a later probe that comes due while another waits is merged into it and not charged', async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 2 } } })
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  const later = await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 5 } })
  t.equal(later.statusCode, 202)
  t.match(later.body.data, { merged: false, check_in_waiting: false })
  const now = await call(h.kronus, {
    method: 'POST',
    url,
    token: user.token,
    payload: { in_minutes: 0, wait_minutes: 60 }
  })
  t.equal(now.statusCode, 201)
  await advance(h, 5)
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1, 'no second probe')
  t.equal(textsTo(h, user.phone_number).length, 1, 'no second ask')
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  t.equal(
    (await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0 } })).statusCode,
    201,
    'the merged one was given back: this is the second of 2'
  )
})

t.test('asking later while a check-in waits says so (check_in_waiting)', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 0 } })
  const later = await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 30 } })
  t.equal(later.statusCode, 202)
  t.match(later.body.data, { merged: false, check_in_waiting: true })
})

t.test('a second request within the first wait of the first is added to it', async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 1 } } })
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  const start = h.kronus.clock.now()
  const first = await call(h.kronus, {
    method: 'POST',
    url,
    token: user.token,
    payload: { in_minutes: 10, retries: 1, wait_minutes: 10 }
  })
  t.equal(first.statusCode, 202)
  // The first is asked at +10 and follows up at +20: a request for +15 is the same request again.
  const second = await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 15 } })
  t.equal(second.statusCode, 202, 'not a 429: it costs nothing')
  t.same(second.body.data, {
    starts_at: new Date(start + 10 * MINUTE).toISOString(),
    probe: null,
    merged: true,
    check_in_waiting: false
  })
  const after = await call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: 21 } })
  t.equal(after.statusCode, 429, 'one for after its first follow-up is a new request, over the cap of 1')
  await advance(h, 40)
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1, 'one check-in')
})

t.test('the cap counts the last 24 hours, and a change of time_zone gains nothing', async (t) => {
  const h = await buildProbeKronus(t, { config: { probes: { onDemandDailyLimit: 2 } } })
  const { user } = await probedUser(h)
  const url = `/v1/users/${user.id}/probes`
  const ask = (inMinutes: number) =>
    call(h.kronus, { method: 'POST', url, token: user.token, payload: { in_minutes: inMinutes, retries: 0 } })
  const zone = (time_zone: string) =>
    call(h.kronus, {
      method: 'PUT',
      url: `/v1/users/${user.id}/probe_settings`,
      token: user.token,
      payload: { time_zone }
    })

  h.kronus.clock.set('2026-01-05T12:00:00Z')
  t.equal((await ask(60)).statusCode, 202)
  h.kronus.clock.set('2026-01-05T14:00:00Z')
  t.equal((await ask(60)).statusCode, 202)
  const refused = await ask(120)
  t.equal(refused.statusCode, 429)
  t.match(refused.body.errors, [/at most 2 on-demand probes in 24 hours/])
  t.equal(refused.headers['retry-after'], String(22 * 3600), 'the first is a day old at 12:00 tomorrow')
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

  // A new local day in another zone (it is past midnight in Tokyo, and in Kiritimati) is no new allowance.
  for (const timeZone of ['Asia/Tokyo', 'Pacific/Kiritimati', 'America/Toronto']) {
    t.equal((await zone(timeZone)).statusCode, 200)
    t.equal((await ask(120)).statusCode, 429, timeZone)
  }
  h.kronus.clock.set('2026-01-06T04:59:00Z') // a new day in UTC and Tokyo: still the same 24 hours
  t.equal((await ask(120)).statusCode, 429)
  h.kronus.clock.set('2026-01-06T11:59:00Z')
  t.equal((await ask(120)).statusCode, 429)
  h.kronus.clock.set('2026-01-06T12:00:00Z')
  t.equal((await ask(120)).statusCode, 202, 'the first request is 24 hours old')
  t.equal((await ask(180)).statusCode, 429, 'the second is not')
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
    (
      await call(h.kronus, {
        method: 'POST',
        url: `/v1/users/${user.id}/probes`,
        token: user.token,
        payload: { in_minutes: 120 }
      })
    ).statusCode,
    429
  )
  t.equal(
    (await call(h.kronus, { method: 'POST', url: `/v1/users/${other.id}/probes`, token: other.token })).statusCode,
    202
  )
})
