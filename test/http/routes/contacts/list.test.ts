import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'

t.test('a user lists only their own contacts, 100 a page', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const other = await createUser(kronus, admin)
  await createContact(kronus, other)
  for (let i = 0; i < 101; i++) await createContact(kronus, admin)

  const first = await call(kronus, { url: `/v1/users/${admin.id}/contacts`, token: admin.token })
  t.equal(first.statusCode, 200)
  t.same(first.body.paging, { total: 101, page: 1, pages: 2 })
  t.equal(first.body.data.length, 100)
  t.ok(
    first.body.data.every((c: any) => c.user_id === admin.id),
    "no other user's contact"
  )
  const second = await call(kronus, { url: `/v1/users/${admin.id}/contacts?page=2`, token: admin.token })
  t.same(second.body.paging, { total: 101, page: 2, pages: 2 })
  t.equal(second.body.data.length, 1)
})

t.test('no contacts is an empty page 1 of 1', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { url: `/v1/users/${admin.id}/contacts`, token: admin.token })
  t.same(res.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
})
