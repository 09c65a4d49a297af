import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'

t.test('an admin sees every event; a user only their own', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const alice = await createUser(kronus, admin)
  const bob = await createUser(kronus, admin)
  await createContact(kronus, alice)
  await kronus.events.emit('server.started', { uri: 'http://x' })

  const all = await call(kronus, { url: '/v1/events', token: admin.token })
  t.equal(all.statusCode, 200)
  t.same(
    all.body.data.map((e: any) => [e.type, e.user_id]),
    [
      ['user.created', admin.id],
      ['user.created', alice.id],
      ['user.created', bob.id],
      ['contact.created', alice.id],
      ['server.started', null]
    ]
  )
  t.same(all.body.paging, { total: 5, page: 1, pages: 1 })
  t.match(all.body.data[1], {
    id: Number,
    type: 'user.created',
    user_id: alice.id,
    payload: { userId: alice.id, isAdmin: false },
    created_at: '2026-01-05T12:00:00.000Z'
  })

  const mine = await call(kronus, { url: '/v1/events', token: alice.token })
  t.same(
    mine.body.data.map((e: any) => e.type),
    ['user.created', 'contact.created']
  )
  t.ok(mine.body.data.every((e: any) => e.user_id === alice.id))

  const bobs = await call(kronus, { url: `/v1/events?user_id=${bob.id}`, token: admin.token })
  t.same(
    bobs.body.data.map((e: any) => e.user_id),
    [bob.id],
    'an admin may narrow to one user'
  )

  const peek = await call(kronus, { url: `/v1/events?user_id=${bob.id}`, token: alice.token })
  t.equal(peek.statusCode, 403, "a user cannot ask for someone else's")

  t.equal((await call(kronus, { url: '/v1/events' })).statusCode, 401, 'a token is required')
})

t.test('filters by type and cursor, and pages', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  for (let i = 0; i < 3; i++) await createUser(kronus, admin)

  const created = await call(kronus, { url: '/v1/events?type=user.created', token: admin.token })
  t.equal(created.body.data.length, 4)
  const cursor = created.body.data[1].id
  const after = await call(kronus, { url: `/v1/events?type=user.created&after=${cursor}`, token: admin.token })
  t.same(
    after.body.data.map((e: any) => e.id),
    created.body.data.slice(2).map((e: any) => e.id)
  )

  const page2 = await call(kronus, { url: '/v1/events?limit=3&page=2', token: admin.token })
  t.same(page2.body.paging, { total: 4, page: 2, pages: 2 })
  t.same(
    page2.body.data.map((e: any) => e.id),
    [created.body.data[3].id]
  )
})

t.test('bad filters are a 400 naming the field', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const badType = await call(kronus, { url: '/v1/events?type=user.create', token: admin.token })
  t.equal(badType.statusCode, 400)
  t.match(badType.body.errors[0], /^type must be one of .*probe\.status_changed.*user\.created/)
  for (const query of ['after=-1', 'after=abc', 'page=0', 'limit=101', 'user_id=0', 'colour=red']) {
    const res = await call(kronus, { url: `/v1/events?${query}`, token: admin.token })
    t.equal(res.statusCode, 400, query)
    t.match(res.body.errors[0], query.split('=')[0]!, `${query}: the message names the field`)
  }
})
