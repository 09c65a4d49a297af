import t from 'tap'
import { ROLE_ID } from '../../../../src/domain/constants.js'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, login } from '../../../helpers/http.js'

t.test('a user updates their own fields; unchanged fields stay', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  kronus.clock.advanceMinutes(5)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: {
      first_name: 'bruce',
      phone_number: '+15550001111',
      email: 'Bruce@Example.com',
      current_password: user.password
    }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, {
    id: user.id,
    first_name: 'bruce',
    last_name: user.record.last_name,
    phone_number: '+15550001111',
    email: 'bruce@example.com'
  })
  t.equal(res.body.data.created_at, user.record.created_at)
  t.equal(Date.parse(res.body.data.updated_at), kronus.clock.now())
  t.ok(res.body.data.probe_settings, 'the record keeps its probe settings')
})

t.test('a new password replaces the old one', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const payload = { password: 'brand-new-secret', current_password: user.password }
  const res = await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload })
  t.equal(res.statusCode, 200)
  t.ok(await login(kronus, user.email, 'brand-new-secret'))
  const old = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: user.email, password: user.password }
  })
  t.equal(old.statusCode, 401)
})

t.test('changing the password or the email needs the current password', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const put = (payload: Record<string, unknown>) =>
    call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload })
  for (const change of [{ password: 'taken-over-secret' }, { email: 'thief@example.com' }]) {
    const missing = await put(change)
    t.equal(missing.statusCode, 400, `${Object.keys(change)[0]} without current_password`)
    t.match(missing.body.errors[0], /"current_password" is required/)
    const wrong = await put({ ...change, current_password: 'not-the-password' })
    t.equal(wrong.statusCode, 403, `${Object.keys(change)[0]} with a wrong current_password`)
    t.match(wrong.body.errors[0], /"current_password" is incorrect/)
  }
  t.ok(await login(kronus, user.email, user.password), 'nothing changed: the old email and password still log in')
  t.equal(
    (await put({ email: user.email.toUpperCase(), first_name: 'same-email' })).statusCode,
    200,
    'resending the same email needs none'
  )
  t.equal((await put({ first_name: 'renamed' })).statusCode, 200, 'other fields need none')
})

t.test('changing the password or the email ends every token issued before', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const laptop = user.token
  const phone = await login(kronus, user.email, user.password)
  const me = (token: string) => call(kronus, { url: `/v1/users/${user.id}`, token })

  t.equal(
    (await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: laptop, payload: { last_name: 'x' } }))
      .statusCode,
    200
  )
  t.equal((await me(phone)).statusCode, 200, 'a change of name ends no token')

  const newPassword = 'brand-new-secret'
  const changed = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: laptop,
    payload: { password: newPassword, current_password: user.password }
  })
  t.equal(changed.statusCode, 200)
  t.equal((await me(laptop)).statusCode, 401, 'the token that changed the password is ended')
  t.equal((await me(phone)).statusCode, 401, 'and so is every other token of the user')
  const fresh = await login(kronus, user.email, newPassword)
  t.equal((await me(fresh)).statusCode, 200, 'a login with the new password works')
  t.equal((await me(admin.token)).statusCode, 200, 'other users keep their tokens')

  const moved = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: fresh,
    payload: { email: 'moved@example.com', current_password: newPassword }
  })
  t.equal(moved.statusCode, 200)
  t.equal((await me(fresh)).statusCode, 401, 'an email change ends the tokens too')
  t.equal((await me(await login(kronus, 'moved@example.com', newPassword))).statusCode, 200)
})

t.test('password and email changes are limited per user and per hour', async (t) => {
  const kronus = await buildKronus(t, { config: { auth: { maxPasswordChangesPerHour: 3 } } })
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  let current = user.password
  let token = user.token
  for (let i = 0; i < 3; i++) {
    const next = `rotated-secret-${i}`
    const res = await call(kronus, {
      method: 'PUT',
      url: `/v1/users/${user.id}`,
      token,
      payload: { password: next, current_password: current }
    })
    t.equal(res.statusCode, 200, `change ${i + 1}`)
    current = next
    token = await login(kronus, user.email, current)
  }
  const limited = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token,
    payload: { password: 'one-too-many', current_password: current }
  })
  t.equal(limited.statusCode, 429)
  t.match(limited.body.errors[0], /too many password or email changes/)
  t.ok(Number(limited.headers['retry-after']) > 0)
  const guess = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token,
    payload: { password: 'one-too-many', current_password: 'a-guess-123' }
  })
  t.equal(guess.statusCode, 429, 'guesses of the current password share the budget')
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}`,
        token: admin.token,
        payload: { password: 'admin-new-secret', current_password: admin.password }
      })
    ).statusCode,
    200,
    'other users are not limited'
  )
  kronus.clock.advanceMinutes(60)
  token = await login(kronus, user.email, current)
  const later = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token,
    payload: { password: 'one-too-many', current_password: current }
  })
  t.equal(later.statusCode, 200, 'an hour later')
})

t.test('a new password follows NIST SP 800-63B: 8 to 128 characters, not a common one', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const put = (password: string) =>
    call(kronus, {
      method: 'PUT',
      url: `/v1/users/${admin.id}`,
      token: admin.token,
      payload: { password, current_password: admin.password }
    })
  for (const [password, why] of [
    ['seven77', /at least 8 characters/],
    ['a'.repeat(129), /at most 128 characters/],
    ['password123', /most common passwords/],
    ['Sunshine1', /most common passwords/]
  ] as const) {
    const res = await put(password)
    t.equal(res.statusCode, 400, `${password.slice(0, 20)} is refused`)
    t.match(res.body.errors.join(' '), /password/)
    t.match(res.body.errors.join(' '), why)
  }
  t.equal((await put('🔑🔑🔑🔑🔑🔑🔑')).statusCode, 400, 'seven emoji are seven characters')
  t.equal((await put('b'.repeat(128))).statusCode, 200, '128 characters are accepted')
})

t.test('id, role_id and unknown fields never change anything', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: {
      last_name: 'kept',
      id: admin.id,
      role_id: ROLE_ID.admin,
      user_id: admin.id,
      password_hash: 'x',
      shoe_size: 44
    }
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
    password: ['', 'two words', 'short12', 'iloveyou']
  }
  for (const [field, values] of Object.entries(invalid)) {
    for (const value of values) {
      const res = await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}`,
        token: admin.token,
        payload: { [field]: value }
      })
      t.equal(res.statusCode, 400, `${field}=${JSON.stringify(value)}`)
      t.match(res.body.errors.join(' '), field)
    }
  }
  const after = await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })
  t.same(after.body.data, admin.record, 'nothing changed')
})

t.test("taking another user's email or phone number is a 409", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const email = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { email: admin.email, current_password: user.password }
  })
  t.equal(email.statusCode, 409)
  t.match(email.body.errors[0], /email/)
  const phone = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { phone_number: admin.phone_number }
  })
  t.equal(phone.statusCode, 409)
  t.match(phone.body.errors[0], /phone_number/)
  const own = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { email: user.email }
  })
  t.equal(own.statusCode, 200, 'setting your own email again is fine')
})
