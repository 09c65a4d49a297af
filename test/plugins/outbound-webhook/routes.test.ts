import t from 'tap'
import { call, createUser } from '../../helpers/http.js'
import { buildWebhookKronus, createWebhook, twoUsers } from './harness.js'

/* The REST routes: the same access rules as contacts, Kronus's envelope, 400s that name the field. */

const valid = {
  url: 'https://hooks.example.com/kronus',
  events: ['user.aliveness_changed', 'emergency.triggered'],
  description: 'my dashboard'
}

t.test('the signing secret is shown once, at creation, and again only when rotated', async (t) => {
  const kronus = await buildWebhookKronus(t)
  const { user } = await twoUsers(kronus)
  const created = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/webhooks`,
    token: user.token,
    payload: valid
  })
  t.equal(created.statusCode, 201)
  const { secret, ...record } = created.body.data
  t.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/)
  t.equal(Buffer.from(secret.slice(6), 'base64').length, 32)
  t.same(record, {
    id: record.id,
    user_id: user.id,
    url: valid.url,
    events: valid.events,
    description: 'my dashboard',
    active: true,
    disabled_reason: null,
    disabled_at: null,
    created_at: '2026-01-05T12:00:00.000Z',
    updated_at: '2026-01-05T12:00:00.000Z'
  })

  const base = `/v1/users/${user.id}/webhooks`
  const reads = [
    await call(kronus, { url: base, token: user.token }),
    await call(kronus, { url: `${base}/${record.id}`, token: user.token }),
    await call(kronus, {
      method: 'PUT',
      url: `${base}/${record.id}`,
      token: user.token,
      payload: { description: 'renamed' }
    })
  ]
  for (const res of reads) {
    t.equal(res.statusCode, 200)
    t.notOk(res.payload.includes(secret), 'the secret is not in the response')
    t.notOk(res.payload.includes('whsec_'), 'nor any secret')
    t.notOk(res.payload.includes('secret'), 'nor a secret field')
  }
  t.same(reads[0]!.body.paging, { total: 1, page: 1, pages: 1 })

  const rotated = await call(kronus, { method: 'POST', url: `${base}/${record.id}/rotate_secret`, token: user.token })
  t.equal(rotated.statusCode, 200)
  t.match(rotated.body.data.secret, /^whsec_/)
  t.not(rotated.body.data.secret, secret)
  t.equal(rotated.body.data.description, 'renamed')
  const after = await call(kronus, { url: `${base}/${record.id}`, token: user.token })
  t.notOk(after.payload.includes('whsec_'))
})

t.test('only the user themself may see or change their webhooks, not even an admin', async (t) => {
  const kronus = await buildWebhookKronus(t)
  const { admin, user } = await twoUsers(kronus)
  const other = await createUser(kronus, admin)
  const hook = await createWebhook(kronus, user, valid)
  await kronus.events.emit('emergency.triggered', { userId: user.id, probeId: 1, status: 'bad' })
  const base = `/v1/users/${user.id}/webhooks`
  const requests = [
    { method: 'GET', url: base },
    { method: 'POST', url: base, payload: valid },
    { method: 'GET', url: `${base}/${hook.id}` },
    { method: 'PUT', url: `${base}/${hook.id}`, payload: { active: false } },
    { method: 'DELETE', url: `${base}/${hook.id}` },
    { method: 'POST', url: `${base}/${hook.id}/rotate_secret` },
    { method: 'GET', url: `${base}/${hook.id}/deliveries` },
    { method: 'POST', url: `${base}/${hook.id}/deliveries/1/redeliver` }
  ]
  for (const request of requests) {
    const what = `${request.method} ${request.url}`
    t.equal((await call(kronus, request)).statusCode, 401, `${what} without a token`)
    for (const caller of [admin, other]) {
      const res = await call(kronus, { ...request, token: caller.token })
      t.equal(res.statusCode, 403, `${what} by user ${caller.id}`)
      t.same(res.body, { success: false, errors: ['you can only access your own records'] })
    }
  }
  const still = await call(kronus, { url: `${base}/${hook.id}`, token: user.token })
  t.same([still.body.data.active, still.body.data.description], [true, 'my dashboard'], 'nothing was changed')
})

t.test("a webhook id that is not one of the user's is a 404", async (t) => {
  const kronus = await buildWebhookKronus(t)
  const { admin, user } = await twoUsers(kronus)
  const adminHook = await createWebhook(kronus, admin, valid)
  const base = `/v1/users/${user.id}/webhooks`
  for (const id of [adminHook.id, 99999]) {
    for (const request of [
      { method: 'GET', url: `${base}/${id}` },
      { method: 'PUT', url: `${base}/${id}`, payload: { active: false } },
      { method: 'DELETE', url: `${base}/${id}` },
      { method: 'POST', url: `${base}/${id}/rotate_secret` },
      { method: 'GET', url: `${base}/${id}/deliveries` },
      { method: 'POST', url: `${base}/${id}/deliveries/1/redeliver` }
    ]) {
      const res = await call(kronus, { ...request, token: user.token })
      t.equal(res.statusCode, 404, `${request.method} ${request.url}`)
      t.equal(res.body.success, false)
    }
  }
  const own = await createWebhook(kronus, user, valid)
  t.equal(
    (await call(kronus, { method: 'POST', url: `${base}/${own.id}/deliveries/12345/redeliver`, token: user.token }))
      .statusCode,
    404,
    'an unknown delivery'
  )
})

t.test('bad input is a 400 whose message names the field', async (t) => {
  const kronus = await buildWebhookKronus(t)
  const { user } = await twoUsers(kronus)
  const base = `/v1/users/${user.id}/webhooks`
  const cases: Array<[unknown, RegExp]> = [
    [{ ...valid, url: 'ftp://example.com/x' }, /"url" must be an http or https URL/],
    [{ ...valid, url: 'not a url' }, /"url" must be an http or https URL/],
    [{ ...valid, url: 'javascript:alert(1)' }, /"url" must be an http or https URL/],
    [{ ...valid, url: 42 }, /"url" must be a string/],
    [{ events: valid.events }, /"url" is required/],
    [
      { ...valid, events: ['user.aliveness_changed', 'user.explodes'] },
      /"events\[1\]" must be one of probe\.started, .*user\.aliveness_changed/
    ],
    [{ ...valid, events: ['message.sent'] }, /"events\[0\]" must be one of/],
    [{ ...valid, events: [] }, /"events" must contain at least 1 items/],
    [{ ...valid, events: 'emergency.triggered' }, /"events" must be an array/],
    [{ ...valid, events: ['emergency.triggered', 'emergency.triggered'] }, /"events\[1\]" contains a duplicate value/],
    [{ url: valid.url }, /"events" is required/],
    [{ ...valid, description: 'x'.repeat(501) }, /"description" length must be less than or equal to 500/],
    [{ ...valid, active: 'maybe' }, /"active" must be a boolean/],
    [{ ...valid, description: 'my\u0000dashboard' }, /"description" must not contain control characters/],
    [{ ...valid, description: 'my\u001bdashboard' }, /"description" must not contain control characters/],
    [{ ...valid, url: 'https://hooks.example.com/\u0000' }, /"url" must not contain control characters/],
    [
      { ...valid, url: 'http://127.0.0.1:8080/' },
      /"url" must not point to a loopback, private, link-local or metadata address/
    ],
    [{ ...valid, url: 'http://[::1]/' }, /"url" must not point to a loopback/],
    [{ ...valid, url: 'http://169.254.169.254/latest/meta-data' }, /"url" must not point to/],
    [{ ...valid, url: 'http://localhost:3000/' }, /"url" must not point to/]
  ]
  for (const [payload, message] of cases) {
    const res = await call(kronus, { method: 'POST', url: base, token: user.token, payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.body.errors?.[0], message, JSON.stringify(payload))
  }
  const hook = await createWebhook(kronus, user, valid)
  const put = async (payload: unknown) =>
    call(kronus, { method: 'PUT', url: `${base}/${hook.id}`, token: user.token, payload })
  t.match((await put({})).body.errors[0], /at least one of url, events, description, active/)
  t.match((await put({ unknown: 1 })).body.errors[0], /at least one of url, events, description, active/)
  t.match((await put({ events: ['nope'] })).body.errors[0], /"events\[0\]" must be one of/)
  t.match((await put({ url: 'http://10.1.2.3/' })).body.errors[0], /"url" must not point to/)
  t.match(
    (await call(kronus, { url: '/v1/users/abc/webhooks', token: user.token })).body.errors[0],
    /"uid" must be a number/
  )
  t.match((await call(kronus, { url: `${base}/x`, token: user.token })).body.errors[0], /"id" must be a number/)
  t.match(
    (await call(kronus, { url: `${base}?page=0`, token: user.token })).body.errors[0],
    /"page" must be greater than or equal to 1/
  )
  const malformed = await kronus.server.inject({
    method: 'POST',
    url: base,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    payload: '{"url":'
  })
  t.equal(malformed.statusCode, 400)
})

t.test('a webhook can be changed, switched off and deleted, and goes with its user', async (t) => {
  const kronus = await buildWebhookKronus(t)
  const { admin, user } = await twoUsers(kronus)
  const hook = await createWebhook(kronus, user, valid)
  const url = `/v1/users/${user.id}/webhooks/${hook.id}`
  kronus.clock.advance(60_000)
  const put = await call(kronus, {
    method: 'PUT',
    url,
    token: user.token,
    payload: {
      url: 'http://hooks.example.com/v2',
      events: ['probe.status_changed'],
      description: '',
      active: false,
      id: 777,
      user_id: admin.id
    }
  })
  t.equal(put.statusCode, 200)
  t.same(
    { ...put.body.data, created_at: undefined },
    {
      id: hook.id,
      user_id: user.id,
      url: 'http://hooks.example.com/v2',
      events: ['probe.status_changed'],
      description: '',
      active: false,
      disabled_reason: null,
      disabled_at: null,
      created_at: undefined,
      updated_at: '2026-01-05T12:01:00.000Z'
    },
    'unknown fields (id, user_id) are ignored'
  )
  const deleted = await call(kronus, { method: 'DELETE', url, token: user.token })
  t.same([deleted.statusCode, deleted.body], [200, { success: true, data: null }])
  t.equal((await call(kronus, { url, token: user.token })).statusCode, 404)

  await createWebhook(kronus, user, valid)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.same(
    await kronus.knex('webhook_endpoints').where({ user_id: user.id }),
    [],
    'deleting the user deletes their webhooks'
  )
})

t.test('a user may have a bounded number of webhooks', async (t) => {
  const kronus = await buildWebhookKronus(t, { maxEndpointsPerUser: 2 })
  const { user } = await twoUsers(kronus)
  await createWebhook(kronus, user, valid)
  await createWebhook(kronus, user, valid)
  const third = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${user.id}/webhooks`,
    token: user.token,
    payload: valid
  })
  t.same([third.statusCode, third.body.errors], [409, ['you already have 2 webhooks, the most allowed']])
})

t.test('the delivery log route pages attempts, newest first', async (t) => {
  const kronus = await buildWebhookKronus(t, { allowPrivateNetworks: true, maxAttempts: 1 })
  const { user } = await twoUsers(kronus)
  // Nothing listens on port 9 of loopback: every attempt fails fast with a logged error.
  const hook = await createWebhook(kronus, user, { url: 'http://127.0.0.1:9/', events: ['probe.started'] })
  for (let probeId = 1; probeId <= 101; probeId++) {
    await kronus.events.emit('probe.started', {
      userId: user.id,
      probeId,
      origin: 'scheduled',
      maxRetries: 0,
      waitTimeInMinutes: 5
    })
  }
  await kronus.queue.drain()
  const base = `/v1/users/${user.id}/webhooks/${hook.id}/deliveries`
  const first = await call(kronus, { url: base, token: user.token })
  t.same(first.body.paging, { total: 101, page: 1, pages: 2 })
  t.equal(first.body.data.length, 100)
  const second = await call(kronus, { url: `${base}?page=2`, token: user.token })
  t.equal(second.body.data.length, 1)
  const oldest = second.body.data[0]
  t.same(
    { ...oldest, id: undefined, latency_ms: undefined, error: undefined },
    {
      id: undefined,
      endpoint_id: hook.id,
      event_id: oldest.event_id,
      event_type: 'probe.started',
      message_id: `msg_${oldest.event_id}`,
      trigger: 'event',
      attempt: 1,
      succeeded: false,
      status_code: null,
      latency_ms: undefined,
      response_body: '',
      error: undefined,
      created_at: '2026-01-05T12:00:00.000Z'
    }
  )
  t.match(oldest.error, /ECONNREFUSED/)
  t.ok(first.body.data[0].event_id > first.body.data[99].event_id, 'newest first')
})

t.test('the JSON Schemas of webhook bodies are public', async (t) => {
  const kronus = await buildWebhookKronus(t)
  const res = await call(kronus, { url: '/plugins/outbound-webhook/schemas' })
  t.equal(res.statusCode, 200)
  for (const type of ['probe.status_changed', 'user.aliveness_changed', 'emergency.triggered']) {
    t.equal(res.body.data[type].properties.type.const, type)
  }
})
