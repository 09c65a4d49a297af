import { register as globalRegistry } from 'prom-client'
import t from 'tap'
import { outboundWebhook } from '../../../../plugins/outbound-webhook/index.js'
import type { KronusConfigInput } from '../../../../src/config/types.js'
import { buildKronus, type TestKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser } from '../../../helpers/http.js'
import { type MetricFamily, parsePrometheus, samplesOf, sampleValue } from '../../../helpers/prometheus.js'
import { RecordingChannel } from '../../../helpers/recording-channel.js'

const TOKEN = 'scrape-token-0123456789abcdef'

async function scrape(
  kronus: TestKronus,
  options: { token?: string; remoteAddress?: string; headers?: Record<string, string> } = {}
) {
  return kronus.server.inject({
    method: 'GET',
    url: '/metrics',
    remoteAddress: options.remoteAddress,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers }
  })
}

async function metrics(kronus: TestKronus): Promise<Map<string, MetricFamily>> {
  const res = await scrape(kronus, { token: TOKEN })
  if (res.statusCode !== 200) throw new Error(`GET /metrics: ${res.statusCode} ${res.payload}`)
  return parsePrometheus(res.payload)
}

function withMetrics(metrics: KronusConfigInput['metrics'], extra: KronusConfigInput = {}): KronusConfigInput {
  return { ...extra, metrics }
}

t.test('every metric family is there, with HELP and TYPE, in the Prometheus text format', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ token: TOKEN }, { plugins: [outboundWebhook()] }) })
  const res = await scrape(kronus, { token: TOKEN })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4; charset=utf-8$/)
  const families = parsePrometheus(res.payload)
  const expected: Record<string, string> = {
    kronus_checkins: 'gauge',
    kronus_alarms: 'gauge',
    kronus_alarms_raised_total: 'counter',
    kronus_jobs_due: 'gauge',
    kronus_jobs_oldest_due_age_seconds: 'gauge',
    kronus_texts_sent_total: 'counter',
    kronus_texts_failed_total: 'counter',
    kronus_texts_delivered_total: 'counter',
    kronus_texts_undelivered_total: 'counter',
    kronus_webhook_deliveries_total: 'counter',
    kronus_http_request_duration_seconds: 'histogram'
  }
  t.same(
    Object.fromEntries([...families.values()].map((f) => [f.name, f.type])),
    expected,
    'these families, of these types, and no others'
  )
  for (const family of families.values()) t.ok(family.help.length > 20, `${family.name} says what it counts`)
  // A fresh database: every status and every (trigger, state) pair is there, at zero.
  for (const status of ['pending', 'good', 'bad', 'unavailable', 'cancelled']) {
    t.equal(sampleValue(families, 'kronus_checkins', { status }), 0, `check-ins ${status}`)
  }
  t.equal(samplesOf(families, 'kronus_alarms').length, 6 * 3, 'six triggers, three states')
  t.ok(
    samplesOf(families, 'kronus_alarms').every((s) => s.value === 0),
    'no alarm'
  )
})

t.test('the latency histogram is labelled by route template, method and status code', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ token: TOKEN }) })
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  for (let i = 0; i < 2; i++) {
    t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  }
  t.equal((await call(kronus, { url: '/v1/users/999999', token: admin.token })).statusCode, 404)
  t.equal((await call(kronus, { url: '/no/such/path/42' })).statusCode, 404)
  const families = await metrics(kronus)
  const name = 'kronus_http_request_duration_seconds'
  t.equal(sampleValue(families, `${name}_count`, { route: '/v1/users/{uid}', method: 'GET', status_code: '200' }), 2)
  t.equal(sampleValue(families, `${name}_count`, { route: '/v1/users/{uid}', method: 'GET', status_code: '404' }), 1)
  t.equal(sampleValue(families, `${name}_count`, { route: '/{p*}', method: 'GET', status_code: '404' }), 1)
  const templates = new Set(kronus.server.table().map((route) => route.path))
  const routes = samplesOf(families, `${name}_count`).map((s) => s.labels.route!)
  t.ok(
    routes.every((route) => templates.has(route) || route === '/{p*}'),
    `every route label is a route's template, never a raw path: ${routes.join(', ')}`
  )
  const buckets = samplesOf(families, `${name}_bucket`, { route: '/v1/users/{uid}', status_code: '200' })
  t.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, 2, 'the +Inf bucket holds every request')
  t.ok(sampleValue(families, `${name}_sum`, { route: '/v1/users/{uid}', method: 'GET', status_code: '200' })! >= 0)
})

t.test('not configured: 404 outside dev mode, whoever asks', async (t) => {
  const kronus = await buildKronus(t)
  const res = await scrape(kronus)
  t.equal(res.statusCode, 404)
  t.equal((await scrape(kronus, { token: TOKEN })).statusCode, 404)
  t.notMatch(res.payload, /kronus_/)
})

t.test('not configured in dev mode: open to this machine (loopback) only', async (t) => {
  const kronus = await buildKronus(t, { config: { dev: true } as KronusConfigInput })
  t.equal((await scrape(kronus, { remoteAddress: '127.0.0.1' })).statusCode, 200)
  t.equal((await scrape(kronus, { remoteAddress: '::1' })).statusCode, 200)
  t.equal((await scrape(kronus, { remoteAddress: '10.1.2.3' })).statusCode, 404)
})

t.test('a token: a wrong or missing one is a bare 401', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ token: TOKEN }) })
  t.equal((await scrape(kronus, { token: TOKEN })).statusCode, 200)
  for (const [what, headers] of [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer scrape-token-0123456789abcdeX' }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
    ['the token with more after it', { authorization: `Bearer ${TOKEN}0` }],
    ['the token as Basic', { authorization: `Basic ${TOKEN}` }]
  ] as const) {
    const res = await scrape(kronus, { headers })
    t.equal(res.statusCode, 401, what)
    t.equal(res.headers['www-authenticate'], 'Bearer', `${what}: says only that a bearer token is needed`)
    t.same(JSON.parse(res.payload), { success: false, errors: ['Unauthorized'] }, `${what}: and nothing more`)
  }
  const admin = await createAdmin(kronus)
  t.equal(
    (await scrape(kronus, { token: admin.token })).statusCode,
    401,
    "an admin's API token is not the scrape token"
  )
})

t.test('allowFrom: listed addresses and networks only; others get a 404', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ allowFrom: ['127.0.0.1', '10.0.0.0/8', 'fd00::/8'] }) })
  for (const address of ['127.0.0.1', '10.200.3.4', 'fd00::5', '::ffff:10.0.0.9']) {
    t.equal((await scrape(kronus, { remoteAddress: address })).statusCode, 200, address)
  }
  for (const address of ['127.0.0.2', '192.168.1.10', '11.0.0.1', '::1']) {
    t.equal((await scrape(kronus, { remoteAddress: address })).statusCode, 404, address)
  }
})

t.test('allowFrom behind a trusted proxy: the address X-Forwarded-For names', async (t) => {
  const kronus = await buildKronus(t, {
    config: withMetrics({ allowFrom: ['10.0.0.0/8'] }, { kronus: { listener: { trustProxy: ['127.0.0.1'] } } })
  })
  const via = (client: string) => scrape(kronus, { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } })
  t.equal((await via('10.1.1.1')).statusCode, 200)
  t.equal((await via('203.0.113.7')).statusCode, 404)
  const forged = await scrape(kronus, { remoteAddress: '203.0.113.7', headers: { 'x-forwarded-for': '10.1.1.1' } })
  t.equal(forged.statusCode, 404, 'an untrusted peer cannot name itself an allowed address')
})

t.test('token and allowFrom: a scrape needs both', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ token: TOKEN, allowFrom: ['10.0.0.0/8'] }) })
  t.equal((await scrape(kronus, { remoteAddress: '10.0.0.7', token: TOKEN })).statusCode, 200)
  t.equal((await scrape(kronus, { remoteAddress: '10.0.0.7' })).statusCode, 401, 'an allowed address without the token')
  t.equal(
    (await scrape(kronus, { remoteAddress: '192.168.0.7', token: TOKEN })).statusCode,
    404,
    'the token from elsewhere'
  )
})

t.test('each Kronus counts in its own registry; the global one stays empty', async (t) => {
  const a = await buildKronus(t, { config: withMetrics({ token: TOKEN }) })
  const b = await buildKronus(t, { config: withMetrics({ token: TOKEN }) })
  const channel = new RecordingChannel()
  a.messaging.registerChannel(channel, { default: true })
  b.messaging.registerChannel(new RecordingChannel(), { default: true })
  await a.messaging.send({ to: '+15550100001', text: 'one' })
  await a.messaging.send({ to: '+15550100002', text: 'two' })
  await a.queue.drain()
  await a.events.settled()
  t.equal(channel.sent.length, 2)
  t.equal(sampleValue(await metrics(a), 'kronus_texts_sent_total', { channel: 'recording' }), 2)
  t.equal(
    sampleValue(await metrics(b), 'kronus_texts_sent_total', { channel: 'recording' }),
    undefined,
    'b sent nothing'
  )
  await call(a, { url: '/health' })
  t.same(
    samplesOf(await metrics(b), 'kronus_http_request_duration_seconds_count', { route: '/health' }),
    [],
    "a's requests are not b's"
  )
  t.same(globalRegistry.getMetricsAsArray(), [], "prom-client's default registry is never used")
})

t.test('a database that does not answer: 503, as /health says', async (t) => {
  const kronus = await buildKronus(t, { config: withMetrics({ token: TOKEN }) })
  await kronus.knex.destroy()
  const res = await scrape(kronus, { token: TOKEN })
  t.equal(res.statusCode, 503)
  t.same(JSON.parse(res.payload), { success: false, errors: ['database unavailable'] })
})
