import t from 'tap'
import { buildKronus, type TestKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../../../helpers/http.js'

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

t.test('a user updates a contact; unknown and id fields are ignored', async (t) => {
  const user = await createUser(kronus, admin)
  const contact = await createContact(kronus, user)
  kronus.clock.advanceMinutes(1)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${contact.id}`,
    token: user.token,
    payload: { first_name: 'natasha', email: '', id: 99, user_id: 99, mood: 'calm' }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, {
    id: contact.id,
    user_id: user.id,
    first_name: 'natasha',
    last_name: contact.last_name,
    email: ''
  })
  t.equal(Date.parse(res.body.data.updated_at), kronus.clock.now())
  t.notOk('mood' in res.body.data)
})

t.test('an update with no known field is a 400; bad values name the field', async (t) => {
  const user = await createUser(kronus, admin)
  const contact = await createContact(kronus, user)
  const url = `/v1/users/${user.id}/contacts/${contact.id}`
  const empty = await call(kronus, { method: 'PUT', url, token: user.token, payload: { id: 5 } })
  t.equal(empty.statusCode, 400)
  const invalid: Record<string, unknown> = {
    first_name: ' ',
    last_name: '',
    phone_number: '555',
    email: 'bad',
    is_emergency_contact: 'yes please'
  }
  for (const [field, value] of Object.entries(invalid)) {
    const res = await call(kronus, { method: 'PUT', url, token: user.token, payload: { [field]: value } })
    t.equal(res.statusCode, 400, field)
    t.match(res.body.errors.join(' '), field)
  }
})

t.test('an unknown contact id is a 404', async (t) => {
  const user = await createUser(kronus, admin)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/31337`,
    token: user.token,
    payload: { first_name: 'x' }
  })
  t.equal(res.statusCode, 404)
})

t.test("changing a phone number to one of the user's other contacts is a 409", async (t) => {
  const user = await createUser(kronus, admin)
  const a = await createContact(kronus, user)
  const b = await createContact(kronus, user)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${b.id}`,
    token: user.token,
    payload: { phone_number: a.phone_number }
  })
  t.equal(res.statusCode, 409)
})

t.test('while probes are on, the last emergency contact cannot be un-marked', async (t) => {
  const user = await createUser(kronus, admin)
  const first = await createContact(kronus, user, { is_emergency_contact: true })
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${user.id}/probe_settings`,
        token: user.token,
        payload: { active: true }
      })
    ).statusCode,
    200
  )

  const refused = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${first.id}`,
    token: user.token,
    payload: { is_emergency_contact: false }
  })
  t.equal(refused.statusCode, 403)

  const second = await createContact(kronus, user, { is_emergency_contact: true })
  const allowed = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${first.id}`,
    token: user.token,
    payload: { is_emergency_contact: false }
  })
  t.equal(allowed.statusCode, 200, 'with another emergency contact it may go')
  const last = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${second.id}`,
    token: user.token,
    payload: { is_emergency_contact: false }
  })
  t.equal(last.statusCode, 403)

  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${user.id}/probe_settings`,
        token: user.token,
        payload: { active: false }
      })
    ).statusCode,
    200
  )
  const off = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${second.id}`,
    token: user.token,
    payload: { is_emergency_contact: false }
  })
  t.equal(off.statusCode, 200, 'with probes off it may go')
})
