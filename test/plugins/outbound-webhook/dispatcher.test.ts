import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { FakeClock } from '../../../src/clock.js'
import { call } from '../../helpers/http.js'
import { parsePrometheus, sampleValue } from '../../helpers/prometheus.js'
import {
  aliveness,
  buildWebhookKronus,
  createWebhook,
  deliveriesOf,
  relogin,
  runRetriesToTheEnd,
  twoUsers
} from './harness.js'
import { startReceiver } from './receiver.js'

/*
 * Deliveries end to end: an event recorded by Kronus reaches a real HTTP receiver on
 * loopback (allowPrivateNetworks lets it), signed, retried, in order, and logged.
 */

t.test('a receiver using the standardwebhooks package verifies a real delivery', async (t) => {
  const receiver = await startReceiver(t)
  // standardwebhooks refuses timestamps more than 5 minutes from its own (real) clock.
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true }, { clock: new FakeClock(Date.now()) })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, {
    url: `${receiver.origin}/hooks/kronus`,
    events: ['user.aliveness_changed']
  })

  await aliveness(kronus, user.id, 'bad', 7)
  await kronus.queue.drain()

  t.equal(receiver.requests.length, 1)
  const [request] = receiver.requests
  t.equal(request!.method, 'POST')
  t.equal(request!.path, '/hooks/kronus')
  t.equal(request!.headers['content-type'], 'application/json')
  const verified = new Webhook(hook.secret).verify(request!.body, request!.headers as Record<string, string>) as any
  t.equal(verified.type, 'user.aliveness_changed')
  t.same(verified.data, { userId: user.id, from: 'unknown', to: 'bad', probeId: 7 })
  t.equal(verified.timestamp, new Date(kronus.clock.now()).toISOString())
  t.match(request!.headers['webhook-id'], /^msg_\d+$/)
  t.throws(
    () =>
      new Webhook('whsec_' + Buffer.alloc(32, 1).toString('base64')).verify(
        request!.body,
        request!.headers as Record<string, string>
      ),
    'another secret does not verify it'
  )
  t.throws(
    () =>
      new Webhook(hook.secret).verify(request!.body.replace('bad', 'good'), request!.headers as Record<string, string>),
    'a changed body does not verify'
  )
})

t.test('events are delivered only to endpoints that asked for them, and only the owner’s', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { admin, user } = await twoUsers(kronus)
  await createWebhook(kronus, user, { url: `${receiver.origin}/user`, events: ['emergency.triggered'] })
  await createWebhook(kronus, admin, {
    url: `${receiver.origin}/admin`,
    events: ['user.aliveness_changed', 'emergency.triggered']
  })

  await aliveness(kronus, user.id, 'bad')
  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 3, status: 'bad' })
  await kronus.events.emit('user.created', { userId: user.id, isAdmin: false })
  await kronus.queue.drain()

  t.same(
    receiver.requests.map((r) => [r.path, JSON.parse(r.body).type]),
    [['/user', 'emergency.triggered']],
    "the admin's webhook gets none of the user's events"
  )
})

t.test('a 500 is retried with backoff until the endpoint answers 2xx, each attempt logged', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, {
    url: `${receiver.origin}/flaky`,
    events: ['user.aliveness_changed']
  })
  receiver.respond = (_req, i) => (i < 2 ? { status: 500, body: 'x'.repeat(5000) } : { status: 204 })

  await aliveness(kronus, user.id, 'good')
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 1, 'first attempt')
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 1, 'the retry waits for its backoff')
  kronus.clock.advance(3_000) // e^1 s
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 2)
  kronus.clock.advance(7_000)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 2, 'the second backoff is longer (e^2 s)')
  kronus.clock.advance(1_000)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 3)

  const ids = new Set(receiver.requests.map((r) => r.headers['webhook-id']))
  t.equal(ids.size, 1, 'every attempt carries the same webhook-id')
  const stamps = receiver.requests.map((r) => Number(r.headers['webhook-timestamp']))
  t.ok(stamps[0]! < stamps[1]! && stamps[1]! < stamps[2]!, 'each attempt is signed at its own time')

  const log = await deliveriesOf(kronus, user, hook.id)
  t.same(
    log.map((d) => [d.attempt, d.succeeded, d.status_code]),
    [
      [3, true, 204],
      [2, false, 500],
      [1, false, 500]
    ],
    'newest first'
  )
  t.equal(Buffer.byteLength(log[2].response_body), 1024, 'the response body is kept up to 1 KiB')
  t.equal(log[2].event_type, 'user.aliveness_changed')
  t.type(log[2].latency_ms, 'number')
  t.equal((await kronus.queue.drain(), receiver.requests.length), 3, 'a success is not retried')
})

t.test('an attempt that outlasts the timeout fails and is retried', async (t) => {
  const receiver = await startReceiver(t)
  // Long enough for the retry's loopback answer even on a busy machine; the first attempt hangs.
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, timeoutMs: 1000 })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, { url: `${receiver.origin}/slow`, events: ['user.aliveness_changed'] })
  receiver.respond = (_req, i) => (i === 0 ? 'hang' : { status: 200 })

  await aliveness(kronus, user.id, 'good')
  await kronus.queue.drain()
  kronus.clock.advance(3_000)
  await kronus.queue.drain()

  t.equal(receiver.requests.length, 2)
  const log = await deliveriesOf(kronus, user, hook.id)
  t.same(
    log.map((d) => [d.attempt, d.succeeded, d.status_code]),
    [
      [2, true, 200],
      [1, false, null]
    ]
  )
  t.equal(log[1].error, 'timed out after 1000 ms')
})

t.test("one user's events reach an endpoint in order, and a failing one holds back nobody else's", async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, {
    allowPrivateNetworks: true,
    endpoints: [
      {
        url: `${receiver.origin}/ops`,
        secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64'),
        events: ['user.aliveness_changed']
      }
    ]
  })
  const { admin, user } = await twoUsers(kronus)
  let failFirst = true
  receiver.respond = (req) => {
    const { data } = JSON.parse(req.body)
    if (data.userId === user.id && data.probeId === 1 && failFirst) {
      failFirst = false
      return { status: 503 }
    }
    return { status: 200 }
  }

  await aliveness(kronus, user.id, 'good', 1)
  await aliveness(kronus, user.id, 'bad', 2)
  await aliveness(kronus, admin.id, 'good', 3)
  await aliveness(kronus, user.id, 'unavailable', 4)
  await kronus.queue.drain()
  const seen = () =>
    receiver.requests.map((r) => `${JSON.parse(r.body).data.userId}:${JSON.parse(r.body).data.probeId}`)
  // Different users' deliveries run side by side, so they may arrive in either order (on PostgreSQL they often do).
  t.same(
    seen().sort(),
    [`${user.id}:1`, `${admin.id}:3`].sort(),
    "the user's later events wait; the admin's goes through"
  )

  kronus.clock.advance(3_000)
  await kronus.queue.drain()
  t.same(
    seen().filter((s) => s.startsWith(`${user.id}:`)),
    [`${user.id}:1`, `${user.id}:1`, `${user.id}:2`, `${user.id}:4`],
    'then in the order they happened'
  )
  t.equal(seen().length, 5, 'and nothing else')
})

t.test('an endpoint that answers 410 is disabled at once, and an event says so', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, { url: `${receiver.origin}/gone`, events: ['user.aliveness_changed'] })
  receiver.respond = () => ({ status: 410, body: 'no longer here' })

  await aliveness(kronus, user.id, 'good', 1)
  await runRetriesToTheEnd(kronus)
  await aliveness(kronus, user.id, 'good', 2)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 1, 'no retry, and no further deliveries')

  const got = await call(kronus, { url: `/v1/users/${user.id}/webhooks/${hook.id}`, token: user.token })
  t.equal(got.body.data.active, false)
  t.match(got.body.data.disabled_reason, /410/)
  const disabled = await kronus.events.list({ type: 'outbound-webhook.endpoint_disabled' })
  t.same(
    disabled.map((e) => e.payload),
    [{ userId: user.id, endpointId: hook.id, url: `${receiver.origin}/gone`, reason: 'the endpoint answered 410 Gone' }]
  )
  const log = await deliveriesOf(kronus, user, hook.id)
  t.same(
    log.map((d) => [d.status_code, d.response_body]),
    [[410, 'no longer here']]
  )
  const redelivery = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/webhooks/${hook.id}/deliveries/${log[0].id}/redeliver`,
    token: user.token
  })
  t.same(
    [redelivery.statusCode, redelivery.body.errors],
    [409, ['the webhook is not active; set active to true first']]
  )

  // The user turns it back on: deliveries resume.
  receiver.respond = () => ({ status: 200 })
  const put = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/webhooks/${hook.id}`,
    token: user.token,
    payload: { active: true }
  })
  t.same([put.body.data.active, put.body.data.disabled_reason], [true, null])
  await aliveness(kronus, user.id, 'good', 3)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 2)
})

t.test('an endpoint whose every attempt fails for days is disabled', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, { url: `${receiver.origin}/down`, events: ['user.aliveness_changed'] })
  receiver.respond = () => ({ status: 502 })

  await aliveness(kronus, user.id, 'good', 1)
  const retriedFor = await runRetriesToTheEnd(kronus)
  const attemptsOfFirstEvent = receiver.requests.length
  t.equal(attemptsOfFirstEvent, 13, 'retried 13 times, then given up')
  t.ok(
    retriedFor > 20 * 3600_000 && retriedFor < 26 * 3600_000,
    `for about a day (${(retriedFor / 3600_000).toFixed(1)} h)`
  )
  const dead = await kronus.events.list({ type: 'job.dead' })
  t.same(
    dead.map((e) => e.payload.name),
    ['outbound-webhook.deliver']
  )
  let owner = await relogin(kronus, user)
  t.equal(
    (await call(kronus, { url: `/v1/users/${user.id}/webhooks/${hook.id}`, token: owner.token })).body.data.active,
    true,
    'a day of failures is not enough'
  )

  // 72 hours after the first failure, the next event's first attempt fails too.
  kronus.clock.advance(72 * 3600_000 - retriedFor)
  await aliveness(kronus, user.id, 'good', 2)
  await kronus.queue.drain()
  owner = await relogin(kronus, user)
  const got = await call(kronus, { url: `/v1/users/${user.id}/webhooks/${hook.id}`, token: owner.token })
  t.equal(got.body.data.active, false, 'three days after the first failure, still failing: disabled')
  t.match(got.body.data.disabled_reason, /every attempt failed for 72 hours/)
  t.equal((await kronus.events.list({ type: 'outbound-webhook.endpoint_disabled' })).length, 1)
  kronus.clock.advance(3_000)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, attemptsOfFirstEvent + 1, 'nothing more is sent')
})

t.test('a success in between resets the failure streak', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, maxAttempts: 1 })
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, {
    url: `${receiver.origin}/sometimes`,
    events: ['user.aliveness_changed']
  })
  const answers = [500, 200, 500]
  receiver.respond = (_req, i) => ({ status: answers[i] ?? 500 })

  for (const probeId of [1, 2, 3]) {
    await aliveness(kronus, user.id, 'good', probeId)
    await kronus.queue.drain()
    kronus.clock.advance(2 * 24 * 3600_000)
  }
  t.equal(receiver.requests.length, 3)
  const owner = await relogin(kronus, user)
  t.equal(
    (await call(kronus, { url: `/v1/users/${user.id}/webhooks/${hook.id}`, token: owner.token })).body.data.active,
    true,
    'four days of failures with a success between them'
  )
})

t.test('a delivery can be sent again through the API', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, maxAttempts: 2 })
  const { admin, user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, { url: `${receiver.origin}/broken`, events: ['emergency.triggered'] })
  receiver.respond = () => ({ status: 500 })

  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 9, status: 'unavailable' })
  await kronus.queue.drain()
  kronus.clock.advance(3_000)
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 2, 'both attempts failed; the delivery is given up')

  receiver.respond = () => ({ status: 200, body: 'thanks' })
  const [last] = await deliveriesOf(kronus, user, hook.id)
  const url = `/v1/users/${user.id}/webhooks/${hook.id}/deliveries/${last.id}/redeliver`
  t.equal(
    (await call(kronus, { method: 'POST', url, token: admin.token })).statusCode,
    403,
    "not even an admin may redeliver someone's webhook"
  )
  const res = await call(kronus, { method: 'POST', url, token: user.token })
  t.equal(res.statusCode, 202)
  t.same(res.body.data, { endpoint_id: hook.id, event_id: last.event_id, queued: true })
  await kronus.queue.drain()

  t.equal(receiver.requests.length, 3)
  t.equal(
    receiver.requests[2]!.headers['webhook-id'],
    receiver.requests[0]!.headers['webhook-id'],
    'the same message, so receivers can deduplicate'
  )
  const log = await deliveriesOf(kronus, user, hook.id)
  t.same(log[0], {
    ...log[0],
    trigger: 'redelivery',
    attempt: 1,
    succeeded: true,
    status_code: 200,
    response_body: 'thanks',
    error: null
  })

  const missing = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/webhooks/${hook.id}/deliveries/999999/redeliver`,
    token: user.token
  })
  t.equal(missing.statusCode, 404)
})

t.test('a rotated secret signs beside the new one for the overlap, then not at all', async (t) => {
  const receiver = await startReceiver(t)
  const realNow = Date.now()
  const kronus = await buildWebhookKronus(
    t,
    { allowPrivateNetworks: true },
    { clock: new FakeClock(realNow - 24 * 3600_000 + 2 * 60_000) }
  )
  const { user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, {
    url: `${receiver.origin}/rotating`,
    events: ['user.aliveness_changed']
  })
  const rotated = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/webhooks/${hook.id}/rotate_secret`,
    token: user.token
  })
  t.equal(rotated.statusCode, 200)
  const newSecret: string = rotated.body.data.secret
  t.match(newSecret, /^whsec_/)
  t.not(newSecret, hook.secret)

  // Both deliveries fall within standardwebhooks' 5 minutes of the real clock.
  kronus.clock.set(realNow) // 2 minutes before the 24-hour overlap ends
  await aliveness(kronus, user.id, 'good', 1)
  await kronus.queue.drain()
  const during = receiver.requests[0]!
  t.equal(String(during.headers['webhook-signature']).split(' ').length, 2)
  t.ok(
    new Webhook(hook.secret).verify(during.body, during.headers as Record<string, string>),
    'the old secret still verifies'
  )
  t.ok(new Webhook(newSecret).verify(during.body, during.headers as Record<string, string>), 'so does the new one')

  kronus.clock.set(realNow + 3 * 60_000) // 24 h 1 min after the rotation: the overlap is over
  await aliveness(kronus, user.id, 'good', 2)
  await kronus.queue.drain()
  const after = receiver.requests[1]!
  t.equal(String(after.headers['webhook-signature']).split(' ').length, 1)
  t.ok(new Webhook(newSecret).verify(after.body, after.headers as Record<string, string>))
  t.throws(
    () => new Webhook(hook.secret).verify(after.body, after.headers as Record<string, string>),
    'the old secret no longer does'
  )
})

t.test('deliveries still waiting for a deleted or deactivated webhook are dropped', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { user } = await twoUsers(kronus)
  const kept = await createWebhook(kronus, user, { url: `${receiver.origin}/off`, events: ['user.aliveness_changed'] })
  const deleted = await createWebhook(kronus, user, {
    url: `${receiver.origin}/deleted`,
    events: ['user.aliveness_changed']
  })
  await aliveness(kronus, user.id, 'good')
  await kronus.queue.runDue() // the fan-out: one delivery job per webhook, not yet run
  await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/webhooks/${kept.id}`,
    token: user.token,
    payload: { active: false }
  })
  await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}/webhooks/${deleted.id}`, token: user.token })
  await kronus.queue.drain()
  t.equal(receiver.requests.length, 0)
})

t.test('events of users without a matching webhook queue no delivery work at all', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true })
  const { admin, user } = await twoUsers(kronus)
  await createWebhook(kronus, user, { url: `${receiver.origin}/user`, events: ['user.aliveness_changed'] })
  await kronus.queue.drain()
  const jobsBefore = Number((await kronus.knex('jobs').where({ name: 'events.deliver' }).count({ n: '*' }))[0]!.n)

  await aliveness(kronus, admin.id, 'bad')
  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 3, status: 'bad' })
  const jobsAfter = Number((await kronus.knex('jobs').where({ name: 'events.deliver' }).count({ n: '*' }))[0]!.n)
  t.equal(jobsAfter, jobsBefore, 'neither the admin (no webhook) nor a type the user did not ask for costs a job')

  await aliveness(kronus, user.id, 'good')
  await kronus.queue.drain()
  t.same(
    receiver.requests.map((r) => [r.path, JSON.parse(r.body).type]),
    [['/user', 'user.aliveness_changed']]
  )
})

t.test('every attempt is counted on /metrics by outcome: delivered, rejected, unreachable', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, maxAttempts: 1 })
  const { user } = await twoUsers(kronus)
  await createWebhook(kronus, user, { url: `${receiver.origin}/hooks`, events: ['user.aliveness_changed'] })
  const closed = await startReceiver(t)
  await closed.close()
  await createWebhook(kronus, user, { url: `${closed.origin}/gone`, events: ['emergency.triggered'] })

  await aliveness(kronus, user.id, 'bad')
  await kronus.queue.drain()
  receiver.respond = () => ({ status: 500, body: 'oops' })
  await aliveness(kronus, user.id, 'good')
  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 3, status: 'bad' })
  await kronus.queue.drain()

  const families = parsePrometheus(await kronus.services.metrics.render())
  t.equal(families.get('kronus_webhook_deliveries_total')?.type, 'counter')
  t.equal(sampleValue(families, 'kronus_webhook_deliveries_total', { outcome: 'delivered' }), 1)
  t.equal(sampleValue(families, 'kronus_webhook_deliveries_total', { outcome: 'rejected' }), 1)
  t.equal(sampleValue(families, 'kronus_webhook_deliveries_total', { outcome: 'unreachable' }), 1)
})
