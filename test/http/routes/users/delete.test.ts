import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'

t.test('deleting a user removes them with their contacts and settings', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await createContact(kronus, user, { is_emergency_contact: true })
  const res = await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: user.token })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: null })
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 404)
  t.equal((await kronus.knex('contacts').where({ user_id: user.id })).length, 0)
  t.equal((await kronus.knex('probe_settings').where({ user_id: user.id })).length, 0)
  t.equal(
    (await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })).statusCode,
    401,
    'their token stops working'
  )
})

t.test('the admin deletes another user; an unknown id is a 404', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 404)
})

t.test('the only admin cannot delete themselves while other users depend on them', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const refused = await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}`, token: admin.token })
  t.equal(refused.statusCode, 409)
  t.match(refused.body.errors[0], /admin/)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    200,
    'alone, the admin may go'
  )
})
