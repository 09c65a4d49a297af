import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, uniqueUserInput } from '../../../helpers/http.js'

t.test('users are listed 100 a page with paging, oldest first', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  // The admin plus 149 more: 150 users, two pages.
  for (let i = 0; i < 149; i++)
    await kronus.services.users.create(uniqueUserInput() as any, { userId: admin.id, isAdmin: true })

  const first = await call(kronus, { url: '/v1/users', token: admin.token })
  t.equal(first.statusCode, 200)
  t.same(first.body.paging, { total: 150, page: 1, pages: 2 })
  t.equal(first.body.data.length, 100)
  t.equal(first.body.data[0].id, admin.id)
  t.match(first.body.data[0], { probe_settings: { active: false } }, 'each user comes with its probe settings')

  const second = await call(kronus, { url: '/v1/users?page=2', token: admin.token })
  t.same(second.body.paging, { total: 150, page: 2, pages: 2 })
  t.equal(second.body.data.length, 50)
  const ids = new Set([...first.body.data, ...second.body.data].map((u: any) => u.id))
  t.equal(ids.size, 150, 'the two pages hold every user once')

  const beyond = await call(kronus, { url: '/v1/users?page=3', token: admin.token })
  t.equal(beyond.statusCode, 200)
  t.same(beyond.body.data, [])
  t.same(beyond.body.paging, { total: 150, page: 3, pages: 2 })
})

t.test('a list with one user is page 1 of 1', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { url: '/v1/users', token: admin.token })
  t.same(res.body.paging, { total: 1, page: 1, pages: 1 })
  t.equal(res.body.success, true)
})

t.test('a bad page number is a 400 naming page', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (const page of ['0', '-1', 'two', '1.5', '99999999999']) {
    const res = await call(kronus, { url: `/v1/users?page=${page}`, token: admin.token })
    t.equal(res.statusCode, 400, `page=${page}`)
    t.match(res.body.errors.join(' '), 'page')
  }
})
