import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser } from '../../../helpers/http.js'
import { insertAlarm, schemaError } from './fixtures.js'

t.test("the admin lists every user's alarms, newest first, optionally by status", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const alice = await createUser(kronus, admin)
  const bob = await createUser(kronus, admin)
  const now = kronus.clock.now()
  const resolved = await insertAlarm(kronus.knex, {
    user: { id: alice.id, name: 'Alice A' },
    status: 'resolved',
    resolved_reason: 'contact_safe',
    resolved_by: 'Ann Lee',
    resolved_at: now + 5,
    created_at: now
  })
  const open = await insertAlarm(kronus.knex, {
    user: { id: bob.id, name: 'Bob B' },
    trigger: 'panic',
    quote: 'SOS',
    exhausted_at: now + 40 * 60_000,
    step: 3,
    repeats_sent: 3,
    created_at: now + 1,
    contacts: [{ name: 'Cy Young', phone_number: '+15550009999', state: 'sent', texts_sent: 4, alerted_at: now + 1 }]
  })
  const acknowledged = await insertAlarm(kronus.knex, {
    user: { id: alice.id, name: 'Alice A' },
    status: 'acknowledged',
    created_at: now + 2
  })

  const all = await call(kronus, { url: '/v1/alarms', token: admin.token })
  t.equal(all.statusCode, 200)
  t.error(schemaError(kronus, 'GET', '/v1/alarms', all), 'the body matches the documented schema')
  t.same(
    all.body.data.map((a: any) => [a.id, a.user.id, a.status]),
    [
      [acknowledged.id, alice.id, 'acknowledged'],
      [open.id, bob.id, 'open'],
      [resolved.id, alice.id, 'resolved']
    ]
  )
  t.same(all.body.paging, { total: 3, page: 1, pages: 1 })
  t.match(all.body.data[1], {
    user: { name: 'Bob B' },
    trigger: 'panic',
    quote: 'SOS',
    step: 3,
    repeats_sent: 3,
    exhausted_at: '2026-01-05T12:40:00.000Z',
    contacts: [{ name: 'Cy Young', state: 'sent', texts_sent: 4 }]
  })

  for (const [status, expected] of [
    ['open', [open.id]],
    ['acknowledged', [acknowledged.id]],
    ['resolved', [resolved.id]]
  ] as const) {
    const res = await call(kronus, { url: `/v1/alarms?status=${status}`, token: admin.token })
    t.same(
      res.body.data.map((a: any) => a.id),
      expected,
      status
    )
    t.same(res.body.paging, { total: 1, page: 1, pages: 1 }, `${status}: paging counts only those`)
  }
  const page2 = await call(kronus, { url: '/v1/alarms?page=2', token: admin.token })
  t.same(page2.body, { success: true, data: [], paging: { total: 3, page: 2, pages: 1 } })
})

t.test('only an admin lists all alarms; an unknown status is a 400 listing the valid ones', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  t.equal((await call(kronus, { url: '/v1/alarms', token: user.token })).statusCode, 403)
  t.equal((await call(kronus, { url: '/v1/alarms' })).statusCode, 401)
  const bad = await call(kronus, { url: '/v1/alarms?status=closed', token: admin.token })
  t.equal(bad.statusCode, 400)
  t.match(bad.body.errors[0], /status.*open, acknowledged, resolved/)
  const empty = await call(kronus, { url: '/v1/alarms', token: admin.token })
  t.same(empty.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
})
