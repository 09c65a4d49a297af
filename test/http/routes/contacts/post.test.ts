import t from 'tap'
import { buildKronus, type TestKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, type TestUser, uniqueContactInput } from '../../../helpers/http.js'

/*
 * One Kronus for the whole file: each test works on contacts of a user of its own, and
 * nothing here depends on what other users have.
 */
let kronus: TestKronus
let admin: TestUser
t.before(async () => {
  kronus = await buildKronus(t)
  admin = await createAdmin(kronus)
})

t.test("a user adds a contact, in the seed README's shape", async (t) => {
  const user = await createUser(kronus, admin)
  const res = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: {
      first_name: 'strongest',
      last_name: 'avenger',
      phone_number: '+12345678900',
      email: 'hulk@avengers.com',
      is_emergency_contact: true
    }
  })
  t.equal(res.statusCode, 201)
  t.match(res.body, {
    success: true,
    data: {
      id: Number,
      user_id: user.id,
      first_name: 'strongest',
      last_name: 'avenger',
      phone_number: '+12345678900',
      email: 'hulk@avengers.com',
      is_emergency_contact: true
    }
  })
  t.equal(Date.parse(res.body.data.created_at), kronus.clock.now())
  t.notOk('emergency_marked_at' in res.body.data, 'internal columns stay internal')
})

t.test('email is optional and is_emergency_contact defaults to false', async (t) => {
  const user = await createUser(kronus, admin)
  const input = uniqueContactInput()
  delete input.email
  delete input.is_emergency_contact
  const res = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: input
  })
  t.equal(res.statusCode, 201)
  t.equal(res.body.data.email, '')
  t.equal(res.body.data.is_emergency_contact, false)
})

t.test('id and user_id in the body are ignored', async (t) => {
  const user = await createUser(kronus, admin)
  const res = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: uniqueContactInput({ id: 77, user_id: 999, nickname: 'big guy' })
  })
  t.equal(res.statusCode, 201)
  t.not(res.body.data.id, 77)
  t.equal(res.body.data.user_id, user.id)
  t.notOk('nickname' in res.body.data)
})

t.test('the same phone number twice for one user is a 409', async (t) => {
  const user = await createUser(kronus, admin)
  const first = uniqueContactInput()
  t.equal(
    (await call(kronus, { method: 'POST', url: `/v1/users/${user.id}/contacts`, token: user.token, payload: first }))
      .statusCode,
    201
  )
  const again = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: uniqueContactInput({ phone_number: first.phone_number })
  })
  t.equal(again.statusCode, 409)
  t.match(again.body.errors[0], /phone_number/)
})

t.test('every field is validated, and the 400 names the field', async (t) => {
  const user = await createUser(kronus, admin)
  const invalid: Record<string, unknown[]> = {
    first_name: ['', '   ', null, 3],
    last_name: ['', '  '],
    phone_number: ['', '2345678900', '+1 (234) 567-8900'],
    email: ['not an email', 'x@'],
    is_emergency_contact: ['maybe', 2, null]
  }
  for (const [field, values] of Object.entries(invalid)) {
    for (const value of values) {
      const res = await call(kronus, {
        method: 'POST',
        url: `/v1/users/${user.id}/contacts`,
        token: user.token,
        payload: uniqueContactInput({ [field]: value })
      })
      t.equal(res.statusCode, 400, `${field}=${JSON.stringify(value)}`)
      t.match(res.body.errors.join(' '), field)
    }
  }
  for (const field of ['first_name', 'last_name', 'phone_number']) {
    const input = uniqueContactInput()
    delete input[field]
    const res = await call(kronus, {
      method: 'POST',
      url: `/v1/users/${user.id}/contacts`,
      token: user.token,
      payload: input
    })
    t.equal(res.statusCode, 400, `${field} missing`)
    t.match(res.body.errors.join(' '), field)
  }
  const list = await call(kronus, { url: `/v1/users/${user.id}/contacts`, token: user.token })
  t.equal(list.body.paging.total, 0)
})

t.test("a user's own number cannot be their contact: 400 naming phone_number and why", async (t) => {
  const user = await createUser(kronus, admin)
  for (const is_emergency_contact of [true, false]) {
    const res = await call(kronus, {
      method: 'POST',
      url: `/v1/users/${user.id}/contacts`,
      token: user.token,
      payload: uniqueContactInput({ phone_number: user.phone_number, is_emergency_contact })
    })
    t.equal(res.statusCode, 400)
    t.match(res.body.errors[0], /"phone_number" is your own phone number/)
  }
  const contact = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: uniqueContactInput()
  })
  const changed = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${contact.body.data.id}`,
    token: user.token,
    payload: { phone_number: user.phone_number }
  })
  t.equal(changed.statusCode, 400, 'nor can a contact be changed to it')
  t.match(changed.body.errors[0], /"phone_number" is your own phone number/)
  t.equal((await kronus.knex('contacts').where({ user_id: user.id })).length, 1, 'nothing saved')
})

t.test('premium-rate and non-mobile numbers are refused with a 400 saying why', async (t) => {
  const user = await createUser(kronus, admin)
  const cases: Array<[string, RegExp]> = [
    ['+19005550100', /"phone_number" is a premium-rate number/],
    ['+18005550100', /"phone_number" is a toll-free number, not a mobile phone/],
    ['+442071234567', /"phone_number" is a landline number, not a mobile phone/],
    ['+979123456789', /"phone_number" is a premium-rate number/]
  ]
  for (const [phone_number, reason] of cases) {
    const res = await call(kronus, {
      method: 'POST',
      url: `/v1/users/${user.id}/contacts`,
      token: user.token,
      payload: uniqueContactInput({ phone_number, is_emergency_contact: true })
    })
    t.equal(res.statusCode, 400, phone_number)
    t.match(res.body.errors[0], reason, phone_number)
  }
  const contact = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: uniqueContactInput({ phone_number: '+447700900123' })
  })
  t.equal(contact.statusCode, 201, 'a UK mobile is fine')
  const changed = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${contact.body.data.id}`,
    token: user.token,
    payload: { phone_number: '+33899123456' }
  })
  t.equal(changed.statusCode, 400)
  t.match(changed.body.errors[0], /"phone_number" is a premium-rate number/)
})
