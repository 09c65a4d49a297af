import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, uniqueContactInput } from '../../../helpers/http.js'

t.test('a user has at most 10 emergency contacts by default; the 11th is a 400 naming the limit', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (let i = 0; i < 10; i++) await createContact(kronus, admin, { is_emergency_contact: true })
  const url = `/v1/users/${admin.id}/contacts`
  const refused = await call(kronus, {
    method: 'POST',
    url,
    token: admin.token,
    payload: uniqueContactInput({ is_emergency_contact: true })
  })
  t.equal(refused.statusCode, 400)
  t.equal(
    refused.body.errors[0],
    '"is_emergency_contact": a user may have at most 10 emergency contacts (limits.contactsPerUser); unmark or delete one first'
  )
  const plain = await call(kronus, { method: 'POST', url, token: admin.token, payload: uniqueContactInput() })
  t.equal(plain.statusCode, 201, 'a contact that is not an emergency contact is not counted')
  const list = await call(kronus, { url, token: admin.token })
  t.equal(list.body.data.filter((c: any) => c.is_emergency_contact).length, 10, 'still ten')
})

t.test('limits.contactsPerUser sets the limit, for POST and for marking with PUT', async (t) => {
  const kronus = await buildKronus(t, { config: { limits: { contactsPerUser: 2 } } })
  const admin = await createAdmin(kronus)
  const first = await createContact(kronus, admin, { is_emergency_contact: true })
  await createContact(kronus, admin, { is_emergency_contact: true })
  const spare = await createContact(kronus, admin, { is_emergency_contact: false })
  const url = `/v1/users/${admin.id}/contacts`

  const post = await call(kronus, {
    method: 'POST',
    url,
    token: admin.token,
    payload: uniqueContactInput({ is_emergency_contact: true })
  })
  t.equal(post.statusCode, 400)
  t.match(post.body.errors[0], /at most 2 emergency contacts \(limits\.contactsPerUser\)/)

  const mark = await call(kronus, {
    method: 'PUT',
    url: `${url}/${spare.id}`,
    token: admin.token,
    payload: { is_emergency_contact: true }
  })
  t.equal(mark.statusCode, 400, 'marking a third one')
  t.match(mark.body.errors[0], /"is_emergency_contact": a user may have at most 2 emergency contacts/)

  const rename = await call(kronus, {
    method: 'PUT',
    url: `${url}/${first.id}`,
    token: admin.token,
    payload: { first_name: 'Renamed', is_emergency_contact: true }
  })
  t.equal(rename.statusCode, 200, 'an emergency contact already marked may be edited at the limit')

  const unmark = await call(kronus, {
    method: 'PUT',
    url: `${url}/${first.id}`,
    token: admin.token,
    payload: { is_emergency_contact: false }
  })
  t.equal(unmark.statusCode, 200)
  const markAgain = await call(kronus, {
    method: 'PUT',
    url: `${url}/${spare.id}`,
    token: admin.token,
    payload: { is_emergency_contact: true }
  })
  t.equal(markAgain.statusCode, 200, 'once there is room again')

  const emergency = (await call(kronus, { url, token: admin.token })).body.data.filter(
    (c: any) => c.is_emergency_contact
  )
  t.equal(emergency.length, 2)
  const events = await kronus.events.list({ userId: admin.id, limit: 1000 })
  t.equal(events.filter((e) => e.type === 'contact.created').length, 3, 'refused contacts record no event')
})

t.test('two contacts marked at once cannot both take the last place', async (t) => {
  const kronus = await buildKronus(t, { config: { limits: { contactsPerUser: 1 } } })
  const admin = await createAdmin(kronus)
  const url = `/v1/users/${admin.id}/contacts`
  const results = await Promise.all(
    [1, 2, 3].map(() =>
      call(kronus, {
        method: 'POST',
        url,
        token: admin.token,
        payload: uniqueContactInput({ is_emergency_contact: true })
      })
    )
  )
  t.same(results.map((r) => r.statusCode).sort(), [201, 400, 400])
  t.equal((await kronus.knex('contacts').where({ user_id: admin.id, is_emergency_contact: true })).length, 1)
})
