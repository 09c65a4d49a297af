import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact } from '../../../helpers/http.js'

t.test('a user deletes a contact', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await createContact(kronus, admin)
  const res = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${contact.id}`,
    token: admin.token
  })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: null })
  const again = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${contact.id}`,
    token: admin.token
  })
  t.equal(again.statusCode, 404)
})

t.test('while probes are on, the last emergency contact cannot be deleted', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const emergency = await createContact(kronus, admin, { is_emergency_contact: true })
  const plain = await createContact(kronus, admin)
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: true }
      })
    ).statusCode,
    200
  )

  const refused = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${emergency.id}`,
    token: admin.token
  })
  t.equal(refused.statusCode, 403)
  t.match(refused.body.errors[0], /emergency contact/)
  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}/contacts/${plain.id}`, token: admin.token }))
      .statusCode,
    200,
    'other contacts may go'
  )

  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: false }
      })
    ).statusCode,
    200
  )
  t.equal(
    (
      await call(kronus, {
        method: 'DELETE',
        url: `/v1/users/${admin.id}/contacts/${emergency.id}`,
        token: admin.token
      })
    ).statusCode,
    200
  )
})

t.test('two simultaneous deletes cannot remove both emergency contacts while probes are on', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const a = await createContact(kronus, admin, { is_emergency_contact: true })
  const b = await createContact(kronus, admin, { is_emergency_contact: true })
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: true }
      })
    ).statusCode,
    200
  )
  const codes = (
    await Promise.all(
      [a, b].map((c) =>
        call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}/contacts/${c.id}`, token: admin.token })
      )
    )
  ).map((r) => r.statusCode)
  t.same(codes.sort(), [200, 403])
  t.equal((await kronus.knex('contacts').where({ user_id: admin.id, is_emergency_contact: true })).length, 1)
})
