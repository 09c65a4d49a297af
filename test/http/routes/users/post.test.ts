import t from 'tap'
import { ROLE_ID } from '../../../../src/domain/constants.js'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, uniqueUserInput } from '../../../helpers/http.js'

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

t.test('the first sign-up needs no token and makes an admin with default probe settings', async (t) => {
  const kronus = await buildKronus(t)
  // The seed README's request, sent the same way.
  const res = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      first_name: 'tony',
      last_name: 'stark',
      email: 'stark@avengers.com',
      password: 'very-secure',
      phone_number: '+12345678900'
    })
  })
  t.equal(res.statusCode, 201)
  t.equal(res.body.success, true)
  const user = res.body.data
  t.match(user, {
    id: Number,
    first_name: 'tony',
    last_name: 'stark',
    phone_number: '+12345678900',
    email: 'stark@avengers.com',
    role_id: ROLE_ID.admin,
    probe_settings: {
      id: Number,
      user_id: user.id,
      active: false,
      cron_expression: '0 18 * * 3',
      max_retries: 3,
      wait_time_in_minutes: 60
    }
  })
  for (const stamp of [
    user.created_at,
    user.updated_at,
    user.probe_settings.created_at,
    user.probe_settings.updated_at
  ]) {
    t.match(stamp, RFC3339)
    t.equal(Date.parse(stamp), kronus.clock.now(), 'timestamps come from the clock')
  }
  t.notOk('errors' in res.body)
  t.notOk('paging' in res.body)
})

t.test('after the first user, creating users takes an admin token', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)

  const anonymous = await call(kronus, { method: 'POST', url: '/v1/users', payload: uniqueUserInput() })
  t.equal(anonymous.statusCode, 401, 'no token')

  const created = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput()
  })
  t.equal(created.statusCode, 201)
  t.equal(created.body.data.role_id, ROLE_ID.basic, 'users made by the admin are basic users')

  const basic = await createUser(kronus, admin)
  const byBasic = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: basic.token,
    payload: uniqueUserInput()
  })
  t.equal(byBasic.statusCode, 403, 'a basic user cannot create users')

  const list = await call(kronus, { url: '/v1/users', token: admin.token })
  t.equal(list.body.paging.total, 3, 'the refused requests created nobody')
})

t.test('twenty simultaneous first sign-ups make exactly one user, an admin', async (t) => {
  const kronus = await buildKronus(t)
  const inputs = Array.from({ length: 20 }, () => uniqueUserInput())
  const results = await Promise.all(
    inputs.map((payload) => call(kronus, { method: 'POST', url: '/v1/users', payload }))
  )
  const codes = results.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 201).length, 1, 'exactly one 201')
  t.equal(codes.filter((c) => c === 401).length, 19, 'the others are told a token is needed')
  const rows = await kronus.knex('users').select('role_id')
  t.same(rows, [{ role_id: ROLE_ID.admin }], 'one user in the database, and it is an admin')
})

t.test('when every user has been deleted, the next sign-up makes an admin again', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}`, token: admin.token })).statusCode, 200)
  const again = await call(kronus, { method: 'POST', url: '/v1/users', payload: uniqueUserInput() })
  t.equal(again.statusCode, 201)
  t.equal(again.body.data.role_id, ROLE_ID.admin)
})

t.test('id, role_id and unknown fields in the body are ignored', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({
      id: 999,
      role_id: ROLE_ID.admin,
      created_at: '2000-01-01T00:00:00Z',
      favourite_colour: 'red',
      password_hash: 'x'
    })
  })
  t.equal(res.statusCode, 201)
  t.not(res.body.data.id, 999)
  t.equal(res.body.data.role_id, ROLE_ID.basic, 'role_id cannot be assigned')
  t.equal(Date.parse(res.body.data.created_at), kronus.clock.now())
  t.notOk('favourite_colour' in res.body.data)
})

t.test('the password is stored as an argon2id hash', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const row = await kronus.knex('users').where({ id: admin.id }).first()
  t.match(row.password_hash, /^\$argon2id\$/)
  t.notMatch(row.password_hash, admin.password)
})

t.test('a duplicate email or phone number is a 409', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const sameEmail = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({ email: admin.email })
  })
  t.equal(sameEmail.statusCode, 409)
  t.match(sameEmail.body.errors[0], /email/)
  const sameEmailOtherCase = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({ email: admin.email.toUpperCase() })
  })
  t.equal(sameEmailOtherCase.statusCode, 409, 'emails compare without case')
  const samePhone = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({ phone_number: admin.phone_number })
  })
  t.equal(samePhone.statusCode, 409)
  t.match(samePhone.body.errors[0], /phone_number/)
})

const invalid: Record<string, unknown[]> = {
  first_name: ['', '   ', 42, null, 'x'.repeat(101)],
  last_name: ['', '   ', true, null],
  email: ['', 'not-an-email', 'a@', '@example.com', 7],
  phone_number: ['', '12345678900', '+0123456789', '+1 234 567 8900', '+1234567890123456', 'call me'],
  password: ['', 'has space', 'tab\there', 12345678, 'seven77', 'qwerty123', 'x'.repeat(129)]
}

t.test('every field is validated, and the 400 names the field', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const [field, values] of Object.entries(invalid)) {
    for (const value of values) {
      const res = await call(kronus, {
        method: 'POST',
        url: '/v1/users',
        token: admin.token,
        payload: uniqueUserInput({ [field]: value })
      })
      t.equal(res.statusCode, 400, `${field}=${JSON.stringify(value)}`)
      t.match(res.body.errors.join(' '), field, `${field}=${JSON.stringify(value)}: message names the field`)
    }
    const missing = uniqueUserInput()
    delete missing[field]
    const res = await call(kronus, { method: 'POST', url: '/v1/users', token: admin.token, payload: missing })
    t.equal(res.statusCode, 400, `${field} missing`)
    t.match(res.body.errors.join(' '), field)
  }
  t.equal(
    (await call(kronus, { url: '/v1/users', token: admin.token })).body.paging.total,
    1,
    'no invalid user was created'
  )
})

t.test('a body that is not a JSON object is a 400', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const headers = { 'content-type': 'application/json' }
  for (const payload of ['{"first_name": ', '[]', '"text"', '42', 'null', '']) {
    const res = await call(kronus, { method: 'POST', url: '/v1/users', token: admin.token, headers, payload })
    t.equal(res.statusCode, 400, `body ${JSON.stringify(payload)}`)
    t.equal(res.body.success, false)
  }
})
