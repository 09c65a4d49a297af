import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { outboundWebhook } from '../../../plugins/outbound-webhook/index.js'
import { FakeClock } from '../../../src/clock.js'
import { buildKronus } from '../../helpers/app.js'
import { call, createUser } from '../../helpers/http.js'
import { fakeDns } from './fake-dns.js'
import { aliveness, buildWebhookKronus, createWebhook, deliveriesOf, twoUsers } from './harness.js'
import { startReceiver } from './receiver.js'

const opsSecret = 'whsec_' + Buffer.alloc(32, 3).toString('base64')

t.test('by default a delivery to a loopback or private address is refused, and no request reaches it', async (t) => {
  const receiver = await startReceiver(t)
  // Names that resolve to loopback and to a private address; only loopback could ever be reached.
  const resolve = fakeDns({ 'receiver.test': ['127.0.0.1'], 'nas.test': ['192.168.1.20'] })
  const kronus = await buildWebhookKronus(t, { resolve })
  const { user } = await twoUsers(kronus)
  const loopback = await createWebhook(kronus, user, {
    url: `http://receiver.test:${receiver.port}/`,
    events: ['user.aliveness_changed']
  })
  const lan = await createWebhook(kronus, user, { url: 'http://nas.test/hook', events: ['user.aliveness_changed'] })

  await aliveness(kronus, user.id, 'bad')
  await kronus.queue.drain()

  t.equal(receiver.requests.length, 0)
  const [refusedLoopback] = await deliveriesOf(kronus, user, loopback.id)
  t.same([refusedLoopback.succeeded, refusedLoopback.status_code], [false, null])
  t.match(
    refusedLoopback.error,
    /receiver\.test resolves to 127\.0\.0\.1, a loopback, private, link-local or metadata address/
  )
  const [refusedLan] = await deliveriesOf(kronus, user, lan.id)
  t.match(refusedLan.error, /nas\.test resolves to 192\.168\.1\.20/)
  kronus.clock.advance(3_000)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 0, 'a refusal is retried like any failure, and refused again')
})

t.test('a configured endpoint at a refused IP address stops Kronus at start-up', async (t) => {
  await t.rejects(
    buildKronus(t, {
      config: {
        plugins: [
          outboundWebhook({
            endpoints: [{ url: 'http://169.254.169.254/hook', secret: opsSecret, events: ['emergency.triggered'] }]
          })
        ]
      }
    }),
    /plugin "outbound-webhook" failed to register: endpoint http:\/\/169\.254\.169\.254\/hook must not point to a loopback, private, link-local or metadata address/
  )
})

t.test('dev mode allows private networks', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, {}, { dev: true })
  const { user } = await twoUsers(kronus)
  await createWebhook(kronus, user, { url: `${receiver.origin}/dev`, events: ['user.aliveness_changed'] })
  await aliveness(kronus, user.id, 'good')
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 1)
})

t.test("configured endpoints receive every user's events, signed with their configured secret", async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(
    t,
    {
      allowPrivateNetworks: true,
      endpoints: [
        { url: `${receiver.origin}/ops`, secret: opsSecret, events: ['emergency.triggered'], description: 'pager' }
      ]
    },
    { clock: new FakeClock(Date.now()) }
  )
  const { admin, user } = await twoUsers(kronus)
  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 1, status: 'bad' })
  await kronus.events.emit('emergency.triggered', { userId: admin.id, probeId: 2, status: 'unavailable' })
  await aliveness(kronus, user.id, 'bad')
  await kronus.queue.drain()

  t.same(receiver.requests.map((r) => JSON.parse(r.body).data.userId).sort(), [admin.id, user.id].sort())
  for (const request of receiver.requests)
    t.ok(new Webhook(opsSecret).verify(request.body, request.headers as Record<string, string>))

  const listed = await call(kronus, { url: '/plugins/outbound-webhook/endpoints', token: admin.token })
  t.equal(listed.statusCode, 200)
  t.same(
    listed.body.data.map((e: any) => [e.url, e.events, e.description, e.user_id, e.active]),
    [[`${receiver.origin}/ops`, ['emergency.triggered'], 'pager', null, true]]
  )
  t.notOk(listed.payload.includes('whsec_'), 'the configured secret is not shown')
  t.equal(
    (await call(kronus, { url: '/plugins/outbound-webhook/endpoints', token: user.token })).statusCode,
    403,
    'admins only'
  )
  const log = await call(kronus, {
    url: `/plugins/outbound-webhook/endpoints/${listed.body.data[0].id}/deliveries`,
    token: admin.token
  })
  t.equal(log.body.paging.total, 2)
})

t.test('a disabled configured endpoint stays disabled across restarts until an admin enables it', async (t) => {
  const receiver = await startReceiver(t)
  receiver.respond = () => ({ status: 410 })
  const options = {
    allowPrivateNetworks: true,
    endpoints: [{ url: `${receiver.origin}/ops`, secret: opsSecret, events: ['user.aliveness_changed' as const] }]
  }
  const first = await buildWebhookKronus(t, options)
  const { admin } = await twoUsers(first)
  await aliveness(first, admin.id, 'good')
  await first.queue.drain()
  const disabled = await first.events.list({ type: 'outbound-webhook.endpoint_disabled' })
  t.same(
    disabled.map((e) => [e.userId, e.payload.userId, e.payload.reason]),
    [[null, null, 'the endpoint answered 410 Gone']]
  )
  await first.stop()

  const second = await buildKronus(t, { dir: first.dir, config: { plugins: [outboundWebhook(options)] } })
  const token = (
    await call(second, { method: 'POST', url: '/login', payload: { email: admin.email, password: admin.password } })
  ).body.data.token
  const [endpoint] = (await call(second, { url: '/plugins/outbound-webhook/endpoints', token })).body.data
  t.same([endpoint.active, endpoint.disabled_reason], [false, 'the endpoint answered 410 Gone'])
  await aliveness(second, admin.id, 'good')
  await second.queue.drain()
  t.equal(receiver.requests.length, 1, 'nothing sent while disabled')

  receiver.respond = () => ({ status: 200 })
  const enabled = await call(second, {
    method: 'POST',
    url: `/plugins/outbound-webhook/endpoints/${endpoint.id}/enable`,
    token
  })
  t.same([enabled.statusCode, enabled.body.data.active, enabled.body.data.disabled_reason], [200, true, null])
  await aliveness(second, admin.id, 'bad')
  await second.queue.drain()
  t.equal(receiver.requests.length, 2)
})

t.test('an endpoint removed from the configuration is removed, and gets nothing more', async (t) => {
  const receiver = await startReceiver(t)
  const endpoint = { url: `${receiver.origin}/old`, secret: opsSecret, events: ['user.aliveness_changed' as const] }
  const first = await buildWebhookKronus(t, { allowPrivateNetworks: true, endpoints: [endpoint] })
  const { user } = await twoUsers(first)
  await aliveness(first, user.id, 'good')
  await first.queue.runDue() // fanned out, not yet delivered
  await first.stop()

  const second = await buildKronus(t, {
    dir: first.dir,
    config: { plugins: [outboundWebhook({ allowPrivateNetworks: true })] }
  })
  await second.queue.drain()
  t.equal(receiver.requests.length, 0)
  t.same(await second.knex('webhook_endpoints').whereNotNull('config_key'), [])
})

t.test('options are checked when the plugin is configured', async (t) => {
  t.throws(
    () =>
      outboundWebhook({
        endpoints: [{ url: 'https://x.example', secret: 'hunter2', events: ['emergency.triggered'] }]
      }),
    /Bad options for outbound-webhook: "endpoints\[0\]\.secret" must be whsec_ followed by the base64 of 24 to 64 random bytes/
  )
  t.throws(
    () => outboundWebhook({ endpoints: [{ url: 'gopher://x', secret: opsSecret, events: ['emergency.triggered'] }] }),
    /"endpoints\[0\]\.url" must be an http or https URL/
  )
  t.throws(
    () =>
      outboundWebhook({
        endpoints: [{ url: 'https://x.example', secret: opsSecret, events: ['user.created' as never] }]
      }),
    /"endpoints\[0\]\.events\[0\]" must be one of/
  )
  t.throws(() => outboundWebhook({ timeoutMs: 0 }), /"timeoutMs" must be greater than or equal to 1/)
  t.throws(() => outboundWebhook({ allowPrivateNetworks: 'yes' as never }), /"allowPrivateNetworks" must be a boolean/)
})

t.test('the plugin serves its routes through the public plugin API only at its declared paths', async (t) => {
  const plugin = outboundWebhook()
  t.same(plugin.publicPaths, ['/v1/users/{uid}/webhooks'])
  t.same(plugin.events, ['outbound-webhook.endpoint_disabled'])
  const kronus = await buildWebhookKronus(t, {}, { documentation: true })
  const { admin } = await twoUsers(kronus)
  const user = await createUser(kronus, admin)
  const events = await call(kronus, { url: '/v1/events?type=outbound-webhook.endpoint_disabled', token: user.token })
  t.equal(events.statusCode, 200, 'its event is a known type')
  // Not through `call`: the reference documents login bodies, whose password fields that helper rejects.
  const swagger = await kronus.server.inject({ url: '/swagger.json' })
  t.equal(swagger.statusCode, 200)
  t.ok(
    JSON.parse(swagger.payload).paths['/v1/users/{uid}/webhooks/{id}/deliveries/{deliveryId}/redeliver'],
    'its routes are in the API reference'
  )
})
