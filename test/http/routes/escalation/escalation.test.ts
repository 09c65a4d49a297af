import t from 'tap'
import { DEFAULT_ESCALATION, effectiveEscalation } from '../../../../src/services/escalation.js'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser } from '../../../helpers/http.js'
import { schemaError } from '../alarms/fixtures.js'

t.test('every user has the defaults until they change them', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const url = `/v1/users/${user.id}/escalation`
  for (const token of [user.token, admin.token]) {
    const res = await call(kronus, { url, token })
    t.equal(res.statusCode, 200)
    t.error(schemaError(kronus, 'GET', url, res), 'the body matches the documented schema')
    t.strictSame(res.body.data, {
      user_id: user.id,
      mode: 'all',
      step_minutes: 10,
      repeats: 3,
      voice_calls: false,
      duress_word_set: false,
      updated_at: null
    })
  }
  t.strictSame(await effectiveEscalation(kronus.knex, user.id), { ...DEFAULT_ESCALATION })
  t.equal((await kronus.knex('escalation_settings')).length, 0, 'defaults need no row')
})

t.test('PUT changes the fields given and keeps the others; GET and the engine read the same', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const url = `/v1/users/${user.id}/escalation`

  kronus.clock.advanceMinutes(5)
  const first = await call(kronus, { method: 'PUT', url, token: user.token, payload: { mode: 'ordered' } })
  t.equal(first.statusCode, 200)
  t.error(schemaError(kronus, 'PUT', url, first), 'the body matches the documented schema')
  t.strictSame(first.body.data, {
    user_id: user.id,
    mode: 'ordered',
    step_minutes: 10,
    repeats: 3,
    voice_calls: false,
    duress_word_set: false,
    updated_at: '2026-01-05T12:05:00.000Z'
  })

  kronus.clock.advanceMinutes(5)
  const second = await call(kronus, {
    method: 'PUT',
    url,
    token: user.token,
    payload: { step_minutes: 120, repeats: 0, voice_calls: true, unknown_field: 'ignored' }
  })
  t.equal(second.statusCode, 200)
  t.strictSame(second.body.data, {
    user_id: user.id,
    mode: 'ordered',
    step_minutes: 120,
    repeats: 0,
    voice_calls: true,
    duress_word_set: false,
    updated_at: '2026-01-05T12:10:00.000Z'
  })
  t.strictSame((await call(kronus, { url, token: admin.token })).body.data, second.body.data, 'GET shows the same')
  t.strictSame(await effectiveEscalation(kronus.knex, user.id), {
    mode: 'ordered',
    step_minutes: 120,
    repeats: 0,
    voice_calls: true
  })
  await kronus.knex.transaction(async (trx) => {
    t.equal((await effectiveEscalation(trx, user.id)).step_minutes, 120, 'readable inside a transaction')
  })
  const rows = await kronus.knex('escalation_settings').where({ user_id: user.id })
  t.equal(rows.length, 1, 'one row per user')
  t.equal(Number(rows[0].created_at), Date.parse('2026-01-05T12:05:00.000Z'), 'created with the first change')

  const back = await call(kronus, {
    method: 'PUT',
    url,
    token: user.token,
    payload: { mode: 'all', step_minutes: 1, repeats: 5, voice_calls: false }
  })
  t.match(back.body.data, { mode: 'all', step_minutes: 1, repeats: 5, voice_calls: false }, 'the bounds are allowed')

  t.strictSame(
    (await call(kronus, { url: `/v1/users/${admin.id}/escalation`, token: admin.token })).body.data.mode,
    'all',
    "another user's settings are untouched"
  )
})

t.test('bad input is a 400 naming the field, and changes nothing', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/escalation`
  const cases: Array<[unknown, RegExp]> = [
    [{ mode: 'random' }, /"mode" must be one of all, ordered/],
    [{ mode: '' }, /"mode"/],
    [{ step_minutes: 0 }, /"step_minutes" must be greater than or equal to 1/],
    [{ step_minutes: 121 }, /"step_minutes" must be less than or equal to 120/],
    [{ step_minutes: 1.5 }, /"step_minutes" must be an integer/],
    [{ step_minutes: 'ten' }, /"step_minutes" must be a number/],
    [{ repeats: -1 }, /"repeats" must be greater than or equal to 0/],
    [{ repeats: 6 }, /"repeats" must be less than or equal to 5/],
    [{ voice_calls: 'yes' }, /"voice_calls" must be a boolean/],
    [{ voice_calls: 1 }, /"voice_calls" must be a boolean/],
    [{}, /no updatable field given \(mode, step_minutes, repeats, voice_calls, duress_word\)/],
    [{ colour: 'red' }, /no updatable field given/],
    ['not json', /Invalid request payload JSON format|payload/i]
  ]
  for (const [payload, message] of cases) {
    const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.body.errors.join(' '), message, JSON.stringify(payload))
  }
  const both = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { step_minutes: 0, repeats: 9 } })
  t.match(both.body.errors[0], /"step_minutes".*"repeats"/, 'every bad field is named')
  t.equal((await kronus.knex('escalation_settings')).length, 0, 'nothing stored')
})

t.test('only the user changes their settings; the user or an admin reads them; unknown users are 404', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const other = await createUser(kronus, admin)
  const url = `/v1/users/${user.id}/escalation`
  t.equal((await call(kronus, { url, token: other.token })).statusCode, 403, 'another user may not read')
  t.equal(
    (await call(kronus, { method: 'PUT', url, token: other.token, payload: { repeats: 0 } })).statusCode,
    403,
    'another user may not change'
  )
  t.equal(
    (await call(kronus, { method: 'PUT', url, token: admin.token, payload: { repeats: 0 } })).statusCode,
    403,
    'an admin may not change them either, as with probe settings'
  )
  t.equal((await call(kronus, { url })).statusCode, 401)
  t.equal((await call(kronus, { method: 'PUT', url, payload: { repeats: 0 } })).statusCode, 401)
  const unknown = await call(kronus, { url: '/v1/users/999999/escalation', token: admin.token })
  t.equal(unknown.statusCode, 404)
  t.match(unknown.body.errors[0], /user 999999 not found/)
  t.equal((await effectiveEscalation(kronus.knex, user.id)).repeats, 3, 'nothing changed')
})

t.test('the service refuses out-of-range values from any caller, and unknown users', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const service = kronus.services.escalation
  await t.rejects(service.update(admin.id, { step_minutes: 500 }), /"step_minutes" must be an integer from 1 to 120/)
  await t.rejects(service.update(admin.id, { repeats: 2.5 }), /"repeats" must be an integer from 0 to 5/)
  await t.rejects(service.update(admin.id, { mode: 'loud' as never }), /"mode" must be one of all, ordered/)
  await t.rejects(service.update(999999, { repeats: 1 }), /user 999999 not found/)
  t.equal((await kronus.knex('escalation_settings')).length, 0)
  t.strictSame(await effectiveEscalation(kronus.knex, 999999), { ...DEFAULT_ESCALATION }, 'no user: the defaults')
})

t.test('deleting a user removes their escalation settings', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/escalation`,
    token: user.token,
    payload: { voice_calls: true }
  })
  t.equal((await kronus.knex('escalation_settings').where({ user_id: user.id })).length, 1)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal((await kronus.knex('escalation_settings').where({ user_id: user.id })).length, 0)
})
