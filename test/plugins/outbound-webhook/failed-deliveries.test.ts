import t from 'tap'
import { call } from '../../helpers/http.js'
import { buildWebhookKronus, createWebhook, runRetriesToTheEnd, twoUsers } from './harness.js'
import { startReceiver } from './receiver.js'

const URL = '/plugins/outbound-webhook/deliveries?status=failed'

async function probeStarted(kronus: Awaited<ReturnType<typeof buildWebhookKronus>>, userId: number, probeId: number) {
  await kronus.events.emit('probe.started', {
    userId,
    probeId,
    origin: 'scheduled',
    maxRetries: 0,
    waitTimeInMinutes: 5
  })
}

t.test("every endpoint's failed deliveries, newest first: retrying (failed) or given up (dead)", async (t) => {
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, maxAttempts: 2 })
  const { admin, user } = await twoUsers(kronus)
  const receiver = await startReceiver(t)
  receiver.respond = (request) => (request.path === '/broken' ? { status: 500 } : { status: 200 })
  // Nothing listens on port 9 of loopback: every attempt there fails fast.
  const refused = await createWebhook(kronus, user, { url: 'http://127.0.0.1:9/', events: ['probe.started'] })
  const broken = await createWebhook(kronus, admin, { url: `${receiver.origin}/broken`, events: ['probe.started'] })
  const fine = await createWebhook(kronus, user, { url: `${receiver.origin}/fine`, events: ['probe.started'] })

  await probeStarted(kronus, user.id, 1)
  await kronus.queue.drain()
  const first = await call(kronus, { url: URL, token: admin.token })
  t.equal(first.statusCode, 200, first.payload)
  t.same(first.body.paging, { total: 1, page: 1, pages: 1 }, "the admin's endpoint gets no event of another user")
  t.match(first.body.data, [
    {
      endpoint_id: refused.id,
      user_id: user.id,
      event: 'probe.started',
      status: 'failed',
      attempts: 1,
      last_error: /ECONNREFUSED/,
      last_attempt_at: '2026-01-05T12:00:00.000Z'
    }
  ])

  await probeStarted(kronus, admin.id, 2)
  await runRetriesToTheEnd(kronus)
  const later = await call(kronus, { url: URL, token: admin.token })
  // The two last attempts run at the same moment on workers of their own: their order is a race.
  t.same(
    later.body.data
      .map((d: any) => [d.endpoint_id, d.user_id, d.status, d.attempts])
      .sort((a: number[], b: number[]) => a[0]! - b[0]!),
    [
      [refused.id, user.id, 'dead', 2],
      [broken.id, admin.id, 'dead', 2]
    ],
    'each delivery once, as its last attempt; the endpoint that answers 2xx is not listed'
  )
  t.ok(later.body.data[0].id > later.body.data[1].id, 'newest first')
  t.equal(later.body.data.find((d: any) => d.endpoint_id === broken.id).last_error, 'the endpoint answered 500')
  t.ok(
    receiver.requests.some((r) => r.path === '/fine'),
    'the good endpoint got its event'
  )
  t.notOk(
    later.body.data.some((d: any) => d.endpoint_id === fine.id),
    'a delivery that succeeded is not a failure'
  )
})

t.test('admin only, and status can only be failed', async (t) => {
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { admin, user } = await twoUsers(kronus)
  t.equal((await call(kronus, { url: URL, token: user.token })).statusCode, 403)
  t.equal((await call(kronus, { url: URL })).statusCode, 401)
  const bad = await call(kronus, { url: '/plugins/outbound-webhook/deliveries?status=ok', token: admin.token })
  t.equal(bad.statusCode, 400)
  t.match(bad.body.errors[0], /"status" must be failed/)
  const none = await call(kronus, { url: '/plugins/outbound-webhook/deliveries', token: admin.token })
  t.same(none.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } }, 'status defaults to failed')
})
