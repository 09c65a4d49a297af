import t from 'tap'
import { call } from '../../../helpers/http.js'
import {
  advance,
  anotherProbedUser,
  buildProbeKronus,
  fireProbe,
  probedUser,
  turnProbesOn
} from '../../../probes/harness.js'

t.test("counts probes by status under the seed's names, zeros included", async (t) => {
  const h = await buildProbeKronus(t)
  const { admin, user } = await probedUser(h)
  const empty = await call(h.kronus, { url: '/v1/probes/stats', token: admin.token })
  t.same(empty.body, {
    success: true,
    data: {
      pending_probe_count: 0,
      good_probe_count: 0,
      bad_probe_count: 0,
      unavailable_probe_count: 0,
      cancelled_probe_count: 0
    }
  })

  const other = await anotherProbedUser(h, admin)
  for (const u of [user, other]) await turnProbesOn(h, u, { max_retries: 0, wait_time_in_minutes: 5 })
  // user: good, bad, unavailable, cancelled in turn; other: one pending.
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  await advance(h, 1)
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'n' })
  // The alarm the N raised holds the check-ins until the user's all-clear.
  await h.kronus.messaging.receive({ from: user.phone_number, text: 'Y', channel: 'test' })
  await advance(h, 1)
  await fireProbe(h, user.id)
  await advance(h, 5)
  // Silence raised an alarm too; the user's OK clears it.
  await h.kronus.messaging.receive({ from: user.phone_number, text: 'Y', channel: 'test' })
  await fireProbe(h, user.id)
  await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: false }
  })
  await fireProbe(h, other.id)

  const res = await call(h.kronus, { url: '/v1/probes/stats', token: admin.token })
  t.equal(res.statusCode, 200)
  t.same(res.body.data, {
    pending_probe_count: 1,
    good_probe_count: 1,
    bad_probe_count: 1,
    unavailable_probe_count: 1,
    cancelled_probe_count: 1
  })
})

t.test('only an admin may read the stats', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  t.equal((await call(h.kronus, { url: '/v1/probes/stats', token: user.token })).statusCode, 403)
  t.equal((await call(h.kronus, { url: '/v1/probes/stats' })).statusCode, 401)
})
