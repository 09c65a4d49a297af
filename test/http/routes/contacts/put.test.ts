import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact } from '../../../helpers/http.js'

t.test('a user updates a contact; unknown and id fields are ignored', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await createContact(kronus, admin)
  kronus.clock.advanceMinutes(1)
  const res = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${admin.id}/contacts/${contact.id}`,
    token: admin.token,
    payload: { first_name: 'natasha', email: '', id: 99, user_id: 99, mood: 'calm' }
  })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, { id: contact.id, user_id: admin.id, first_name: 'natasha', last_name: contact.last_name, email: '' })
  t.equal(Date.parse(res.body.data.updated_at), kronus.clock.now())
  t.notOk('mood' in res.body.data)
})

t.test('an update with no known field is a 400; bad values name the field', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await createContact(kronus, admin)
  const url = `/v1/users/${admin.id}/contacts/${contact.id}`
  const empty = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { id: 5 } })
  t.equal(empty.statusCode, 400)
  const invalid: Record<string, unknown> = { first_name: ' ', last_name: '', phone_number: '555', email: 'bad', is_emergency_contact: 'yes please' }
  for (const [field, value] of Object.entries(invalid)) {
    const res = await call(kronus, { method: 'PUT', url, token: admin.token, payload: { [field]: value } })
    t.equal(res.statusCode, 400, field)
    t.match(res.body.errors.join(' '), field)
  }
})

t.test('an unknown contact id is a 404', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/31337`, token: admin.token, payload: { first_name: 'x' } })
  t.equal(res.statusCode, 404)
})

t.test('changing a phone number to one of the user\'s other contacts is a 409', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const a = await createContact(kronus, admin)
  const b = await createContact(kronus, admin)
  const res = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/${b.id}`, token: admin.token, payload: { phone_number: a.phone_number } })
  t.equal(res.statusCode, 409)
})

t.test('while probes are on, the last emergency contact cannot be un-marked', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const first = await createContact(kronus, admin, { is_emergency_contact: true })
  t.equal((await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/probe_settings`, token: admin.token, payload: { active: true } })).statusCode, 200)

  const refused = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/${first.id}`, token: admin.token, payload: { is_emergency_contact: false } })
  t.equal(refused.statusCode, 403)

  const second = await createContact(kronus, admin, { is_emergency_contact: true })
  const allowed = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/${first.id}`, token: admin.token, payload: { is_emergency_contact: false } })
  t.equal(allowed.statusCode, 200, 'with another emergency contact it may go')
  const last = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/${second.id}`, token: admin.token, payload: { is_emergency_contact: false } })
  t.equal(last.statusCode, 403)

  t.equal((await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/probe_settings`, token: admin.token, payload: { active: false } })).statusCode, 200)
  const off = await call(kronus, { method: 'PUT', url: `/v1/users/${admin.id}/contacts/${second.id}`, token: admin.token, payload: { is_emergency_contact: false } })
  t.equal(off.statusCode, 200, 'with probes off it may go')
})
