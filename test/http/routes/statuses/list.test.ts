import t from 'tap'
import { buildScenario, checkIn, emergencyContactOf, text, turnCheckInsOn } from '../../../alarms/harness.js'
import { call, createContact, createUser } from '../../../helpers/http.js'
import { schemaError } from '../alarms/fixtures.js'

t.test("every user's status with the user, by id, filtered by state (admin only)", async (t) => {
  const s = await buildScenario(t)
  const { admin, user: ada } = s
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await checkIn(s, ada, 1)
  const bob = await createUser(s.kronus, admin, { first_name: 'Bob', last_name: 'Stone' })
  await createContact(s.kronus, bob, { is_emergency_contact: true })
  await s.kronus.probes.start(bob.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 10 })
  await text(s, bob.phone_number, 'N')

  const url = '/v1/statuses'
  const res = await call(s.kronus, { url, token: admin.token })
  t.equal(res.statusCode, 200)
  t.error(schemaError(s.kronus, 'GET', url, res), 'the body matches the documented schema')
  t.same(res.body.paging, { total: 3, page: 1, pages: 1 })
  t.same(
    res.body.data.map((x: any) => [x.user.id, x.state]),
    [
      [admin.id, 'off'],
      [ada.id, 'waiting'],
      [bob.id, 'alarm']
    ]
  )
  t.strictSame(res.body.data[1].user, {
    id: ada.id,
    first_name: 'Ada',
    last_name: 'Lovelace',
    phone_number: ada.phone_number
  })
  for (const item of res.body.data) {
    const own = await call(s.kronus, { url: `/v1/users/${item.user.id}/status`, token: admin.token })
    const { user: _user, ...status } = item
    t.strictSame(status, own.body.data, `user ${item.user.id}: the same status as GET /v1/users/{uid}/status`)
  }

  const alarms = await call(s.kronus, { url: `${url}?state=alarm`, token: admin.token })
  t.same(
    alarms.body.data.map((x: any) => x.user.id),
    [bob.id]
  )
  t.same(alarms.body.paging, { total: 1, page: 1, pages: 1 })
  const none = await call(s.kronus, { url: `${url}?state=paused`, token: admin.token })
  t.same(none.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
  const later = await call(s.kronus, { url: `${url}?page=2`, token: admin.token })
  t.same(later.body.data, [], 'page 2 of 1 is empty')

  const bad = await call(s.kronus, { url: `${url}?state=fine`, token: admin.token })
  t.equal(bad.statusCode, 400)
  t.match(bad.body.errors[0], /"state" must be one of alarm, waiting, paused, off, ok, unknown, not_ok/)
  t.equal((await call(s.kronus, { url, token: ada.token })).statusCode, 403, 'not for a user')
})

t.test('a page costs the same number of queries however many users it holds', async (t) => {
  const s = await buildScenario(t)
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await checkIn(s, s.user, 1)
  const queries = async () => {
    let n = 0
    const count = () => {
      n += 1
    }
    s.kronus.knex.on('query', count)
    const res = await call(s.kronus, { url: '/v1/statuses', token: s.admin.token })
    s.kronus.knex.off('query', count)
    t.equal(res.statusCode, 200)
    return { n, users: res.body.data.length }
  }
  const few = await queries()
  for (let i = 0; i < 4; i++) {
    const user = await createUser(s.kronus, s.admin)
    await createContact(s.kronus, user, { is_emergency_contact: true })
    await s.kronus.probes.start(user.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 10 })
  }
  const more = await queries()
  t.equal(more.users, few.users + 4)
  t.equal(more.n, few.n, `${few.n} queries for ${few.users} users and for ${more.users}`)
})
