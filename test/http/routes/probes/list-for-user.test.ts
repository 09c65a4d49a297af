import t from 'tap'
import { PROBE_STATUS_ID } from '../../../../src/domain/constants.js'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'
import { advance, buildProbeKronus, fireProbe, probedUser, turnProbesOn } from '../../../probes/harness.js'

t.test("a user's probes come newest first with status and emergency alert, in the seed's shape", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const contact = await createContact(kronus, user, { is_emergency_contact: true })
  const now = kronus.clock.now()
  const base = {
    user_id: user.id,
    last_response: '',
    retry_count: 0,
    max_retries: 3,
    wait_time_in_minutes: 60,
    origin: 'scheduled',
    created_at: now,
    updated_at: now
  }
  const [older] = await kronus
    .knex('probes')
    .insert({ ...base, probe_status_id: PROBE_STATUS_ID.unavailable, retry_count: 3 })
    .returning('id')
  const olderId = typeof older === 'object' ? older.id : older
  await kronus
    .knex('emergency_probes')
    .insert({ probe_id: olderId, contact_id: contact.id, created_at: now, updated_at: now })
  await kronus.knex('probes').insert({ ...base, probe_status_id: PROBE_STATUS_ID.good, last_response: 'yes' })

  for (const token of [user.token, admin.token]) {
    const res = await call(kronus, { url: `/v1/users/${user.id}/probes`, token })
    t.equal(res.statusCode, 200)
    t.same(res.body.paging, { total: 2, page: 1, pages: 1 })
    t.match(res.body.data[0], {
      user_id: user.id,
      last_response: 'yes',
      probe_status_id: PROBE_STATUS_ID.good,
      status: { name: 'good' },
      emergency_probe: null
    })
    t.match(res.body.data[1], {
      id: olderId,
      retry_count: 3,
      probe_status_id: PROBE_STATUS_ID.unavailable,
      status: { id: PROBE_STATUS_ID.unavailable, name: 'unavailable' },
      emergency_probe: { probe_id: olderId, contact_id: contact.id }
    })
    for (const hidden of ['pending_user_id', 'max_retries', 'wait_time_in_minutes', 'origin', 'start_key'])
      t.notOk(hidden in res.body.data[0], `${hidden} stays internal`)
  }
})

t.test('no probes is an empty page; an unknown user is a 404 for the admin', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const res = await call(kronus, { url: `/v1/users/${admin.id}/probes`, token: admin.token })
  t.same(res.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
  t.equal((await call(kronus, { url: '/v1/users/999/probes', token: admin.token })).statusCode, 404)
  t.equal((await call(kronus, { url: `/v1/users/${admin.id}/probes?page=0`, token: admin.token })).statusCode, 400)
})

t.test('probes run by the lifecycle show their retries and the last reply, pending first', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { max_retries: 2, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'Yeah' })
  await advance(h, 60)
  await fireProbe(h, user.id)
  await advance(h, 10)
  await h.probes.handleReply({ userId: user.id, text: 'busy, later' })

  const res = await call(h.kronus, { url: `/v1/users/${user.id}/probes`, token: user.token })
  t.equal(res.statusCode, 200)
  t.match(res.body.data, [
    { status: { name: 'pending' }, retry_count: 1, last_response: 'busy, later', emergency_probe: null },
    { status: { name: 'good' }, retry_count: 0, last_response: 'Yeah', emergency_probe: null }
  ])
  t.equal(res.body.data.length, 2)
})

t.test('the paging total holds on a full page, a partial last page and past the end', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const now = kronus.clock.now()
  const probe = (n: number) => ({
    user_id: user.id,
    probe_status_id: PROBE_STATUS_ID.good,
    last_response: `yes ${n}`,
    retry_count: 0,
    max_retries: 3,
    wait_time_in_minutes: 60,
    origin: 'scheduled',
    created_at: now + n,
    updated_at: now + n
  })
  const pageOf = async (page: number) =>
    (await call(kronus, { url: `/v1/users/${user.id}/probes?page=${page}`, token: user.token })).body

  await kronus.knex.batchInsert(
    'probes',
    Array.from({ length: 200 }, (_, n) => probe(n)),
    50
  )
  // Two full pages: the total is counted, not taken from the page.
  for (const page of [1, 2]) {
    const body = await pageOf(page)
    t.equal(body.data.length, 100)
    t.same(body.paging, { total: 200, page, pages: 2 })
  }
  t.equal((await pageOf(1)).data[0].last_response, 'yes 199', 'newest first')

  await kronus.knex('probes').insert(probe(200))
  const last = await pageOf(3)
  t.same(last.paging, { total: 201, page: 3, pages: 3 })
  t.same(
    last.data.map((p: any) => p.last_response),
    ['yes 0']
  )
  const past = await pageOf(4)
  t.same(past, { success: true, data: [], paging: { total: 201, page: 4, pages: 3 } })
})
