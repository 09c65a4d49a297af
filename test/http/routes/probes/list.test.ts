import t from 'tap'
import { call } from '../../../helpers/http.js'
import {
  advance,
  anotherProbedUser,
  buildProbeKronus,
  fireProbe,
  type ProbeHarness,
  probedUser,
  turnProbesOn
} from '../../../probes/harness.js'

/** Alice ends good, Bob unavailable, Carol is still pending. */
async function threeProbes(h: ProbeHarness) {
  const { admin, user: alice } = await probedUser(h)
  const bob = await anotherProbedUser(h, admin)
  const carol = await anotherProbedUser(h, admin)
  for (const u of [alice, bob, carol]) await turnProbesOn(h, u, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(h, alice.id)
  await h.probes.handleReply({ userId: alice.id, text: 'yes' })
  await fireProbe(h, bob.id)
  await advance(h, 5)
  await fireProbe(h, carol.id)
  return { admin, alice, bob, carol }
}

t.test("the admin lists every user's probes, newest first, optionally by status", async (t) => {
  const h = await buildProbeKronus(t)
  const { admin, alice, bob, carol } = await threeProbes(h)

  const all = await call(h.kronus, { url: '/v1/probes', token: admin.token })
  t.equal(all.statusCode, 200)
  t.same(all.body.paging, { total: 3, page: 1, pages: 1 })
  t.same(
    all.body.data.map((p: any) => [p.user_id, p.status.name]),
    [
      [carol.id, 'pending'],
      [bob.id, 'unavailable'],
      [alice.id, 'good']
    ]
  )
  t.match(all.body.data[2], { retry_count: 0, last_response: 'yes', emergency_probe: null })

  const pending = await call(h.kronus, { url: '/v1/probes?status=pending', token: admin.token })
  t.same(
    pending.body.data.map((p: any) => p.user_id),
    [carol.id]
  )
  t.same(pending.body.paging, { total: 1, page: 1, pages: 1 })
  const cancelled = await call(h.kronus, { url: '/v1/probes?status=cancelled', token: admin.token })
  t.same(cancelled.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
  const page2 = await call(h.kronus, { url: '/v1/probes?page=2', token: admin.token })
  t.same(page2.body.data, [])
  t.same(page2.body.paging, { total: 3, page: 2, pages: 1 })
})

t.test('an unknown status is a 400 that lists the valid ones', async (t) => {
  const h = await buildProbeKronus(t)
  const { admin } = await probedUser(h)
  const res = await call(h.kronus, { url: '/v1/probes?status=lost', token: admin.token })
  t.equal(res.statusCode, 400)
  t.match(res.body.errors.join(' '), /status.*pending, good, bad, unavailable, cancelled/)
  t.equal((await call(h.kronus, { url: '/v1/probes?page=0', token: admin.token })).statusCode, 400)
})

t.test('only an admin may list all probes', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  t.equal((await call(h.kronus, { url: '/v1/probes', token: user.token })).statusCode, 403)
  t.equal((await call(h.kronus, { url: '/v1/probes' })).statusCode, 401)
})
