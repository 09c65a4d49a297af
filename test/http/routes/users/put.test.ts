import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, login } from '../../../helpers/http.js'
import { ROLE_ID } from '../../../../src/domain/constants.js'

t.test('a user updates their own fields; unchanged fields stay', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  kronus.clock.advanceMinutes(5)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { first_name: 'bruce', phone_number: '+15550001111', email: 'Bruce@Example.com' }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { id: user.id, first_name: 'bruce', last_name: user.record.last_name, phone_number: '+15550001111', email: 'bruce@example.com' })
  t.equal(res.body.data.created_at, user.record.created_at)
  t.equal(Date.parse(res.body.data.updated_at), kronus.clock.now())
  t.ok(res.body.data.probe_settings, 'the record keeps its probe settings')
})

t.test('a new password replaces the old one', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const res = await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload: { password: 'brand-new-secret' } })
  t.equal(res.statusCode, 200)
  t.ok(await login(kronus, user.email, 'brand-new-secret'))
  const old = await call(kronus, { method: 'POST', url: '/login', payload: { email: user.email, password: user.password } })
  t.equal(old.statusCode, 401)
})

t.test('id, role_id and unknown fields never change anything', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { last_name: 'kept', id: admin.id, role_id: ROLE_ID.admin, user_id: admin.id, password_hash: 'x', shoe_size: 44 }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { id: user.id, role_id: ROLE_ID.basic, last_name: 'kept' })
  t.equal((await call(kronus, { url: '/v1/users', token: user.token })).statusCode, 403, 'still not an admin')
  const row = await kronus.knex('users').where({ id: user.id }).first()
  t.match(row.password_hash, /^\$argon2id\$/)
})

t.test('an update with no known field is a 400', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const payload of [{}, { role_id: 1 }, { nickname: 'x' }]) {
    const res = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}`, token: admin.token, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.body.errors[0], /no updatable field/)
  }
  const noBody = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}`, token: admin.token })
  t.equal(noBody.statusCode, 400, 'no body at all')
})

t.test('each field is validated on update, and the 400 names it', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const invalid: Record<string, unknown[]> = {
    first_name: ['', '  ', null],
    last_name: ['', 5],
    email: ['nope', ''],
    phone_number: ['5551234', '+1-555-123-4567'],
    password: ['', 'two words']
  }
  for (const [field, values] of Object.entries(invalid)) {
    for (const value of values) {
      const res = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}`, token: admin.token, payload: { [field]: value } })
      t.equal(res.statusCode, 400, `${field}=${JSON.stringify(value)}`)
      t.match(res.body.errors.join(' '), field)
    }
  }
  const after = await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })
  t.same(after.body.data, admin.record, 'nothing changed')
})

t.test('taking another user\'s email or phone number is a 409', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const email = await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload: { email: admin.email } })
  t.equal(email.statusCode, 409)
  t.match(email.body.errors[0], /email/)
  const phone = await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload: { phone_number: admin.phone_number } })
  t.equal(phone.statusCode, 409)
  t.match(phone.body.errors[0], /phone_number/)
  const own = await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload: { email: user.email } })
  t.equal(own.statusCode, 200, 'setting your own email again is fine')
})
