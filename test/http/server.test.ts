import Joi from 'joi'
import { pino } from 'pino'
import t from 'tap'
import { createHttpServer, MAX_BODY_BYTES } from '../../src/http/server.js'
import { buildKronus } from '../helpers/app.js'
import { assertNoSecrets, call, createAdmin, uniqueUserInput } from '../helpers/http.js'

const SEED_ROUTES: Array<[string, string]> = [
  ['post', '/login'],
  ['get', '/jwks'],
  ['get', '/health'],
  ['get', '/v1/users'],
  ['post', '/v1/users'],
  ['get', '/v1/users/{uid}'],
  ['put', '/v1/users/{uid}'],
  ['delete', '/v1/users/{uid}'],
  ['get', '/v1/users/{uid}/contacts'],
  ['post', '/v1/users/{uid}/contacts'],
  ['put', '/v1/users/{uid}/contacts/{id}'],
  ['delete', '/v1/users/{uid}/contacts/{id}'],
  ['put', '/v1/users/{uid}/probe_settings'],
  ['get', '/v1/users/{uid}/probes']
]

t.test('GET /documentation serves the Swagger UI without starting the server', async (t) => {
  const kronus = await buildKronus(t, { documentation: true })
  const page = await kronus.server.inject('/documentation')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.payload, /swagger-ui/i)
  t.match(page.payload, '/swagger.json', 'the page loads the generated API description')
  const bundle = await kronus.server.inject('/swaggerui/swagger-ui-bundle.js')
  t.equal(bundle.statusCode, 200, "the UI's script is served too")
})

t.test('the API reference is loaded by its first request, and requests arriving together all get it', async (t) => {
  const kronus = await buildKronus(t, { documentation: true })
  const documented = () => kronus.server.table().some((route) => route.path === '/documentation')
  t.notOk(documented(), 'hapi-swagger is not registered at start (docs/BENCHMARKS.md: it costs idle memory)')
  const [page, spec, styles, slashed] = await Promise.all([
    kronus.server.inject('/documentation'),
    kronus.server.inject('/swagger.json'),
    kronus.server.inject('/swaggerui/swagger-ui.css'),
    kronus.server.inject('/documentation/')
  ])
  t.equal(page.statusCode, 200, 'the page')
  t.equal(spec.statusCode, 200, 'the description')
  t.equal(JSON.parse(spec.payload).info.title, 'Kronus API')
  t.equal(styles.statusCode, 200, 'a Swagger UI file')
  t.equal(slashed.statusCode, 200, 'the page with a trailing slash')
  t.ok(documented(), 'registered once, by the first requests')
  t.equal((await kronus.server.inject('/documentation')).statusCode, 200, 'and served after')
  t.equal((await kronus.server.inject('/swaggerui/no-such-file.js')).statusCode, 404, 'other paths under it are 404s')
})

t.test('the API reference is served unless a test turns it off', async (t) => {
  const kronus = await buildKronus(t)
  t.equal((await kronus.server.inject('/documentation')).statusCode, 404, 'the test builder leaves it out by default')
  // What `kronus server` builds: createKronus and createHttpServer are given no such option.
  const server = await createHttpServer({
    config: kronus.config,
    services: kronus.services,
    clock: kronus.clock,
    logger: kronus.logger,
    version: '0.0.0'
  })
  t.teardown(() => server.stop())
  t.equal((await server.inject('/documentation')).statusCode, 200)
  t.equal((await server.inject('/swagger.json')).statusCode, 200)
})

t.test('/swagger.json describes every route from its definition', async (t) => {
  const kronus = await buildKronus(t, { documentation: true })
  const res = await kronus.server.inject('/swagger.json')
  t.equal(res.statusCode, 200)
  const spec = JSON.parse(res.payload)
  t.equal(spec.info.title, 'Kronus API')
  for (const [method, path] of SEED_ROUTES)
    t.ok(spec.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`)

  const createUser = spec.paths['/v1/users'].post
  t.ok(createUser.responses['201'], 'creation documents its 201')
  t.match(
    createUser.responses['409'].description,
    /email or phone_number/,
    'a duplicate email or phone is documented as 409'
  )
  t.ok(spec.paths['/v1/users/{uid}'].put.responses['409'])
  t.ok(spec.paths['/v1/users/{uid}/contacts'].post.responses['409'])
  t.ok(spec.paths['/login'].post.responses['429'])
  const fields = createUser.parameters.find((p: any) => p.in === 'body')
  t.ok(fields, 'the request body is documented')
  const definition = spec.definitions[fields.schema.$ref.split('/').pop()]
  t.same(Object.keys(definition.properties).sort(), ['email', 'first_name', 'last_name', 'password', 'phone_number'])
})

t.test('an unknown route is a 404 in the envelope', async (t) => {
  const kronus = await buildKronus(t)
  const res = await call(kronus, { url: '/v1/nothing-here' })
  t.equal(res.statusCode, 404)
  t.same(res.body, { success: false, errors: ['Not Found'] })
})

t.test('malformed JSON is a 400 on every route that takes a body', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${admin.id}/contacts`,
    token: admin.token,
    payload: { first_name: 'a', last_name: 'b', phone_number: '+15550009999' }
  })
  const routes: Array<[string, string]> = [
    ['POST', '/login'],
    ['POST', '/v1/users'],
    ['PUT', `/v1/users/${admin.id}`],
    ['POST', `/v1/users/${admin.id}/contacts`],
    ['PUT', `/v1/users/${admin.id}/contacts/${contact.body.data.id}`],
    ['PUT', `/v1/users/${admin.id}/probe_settings`]
  ]
  for (const [method, url] of routes) {
    for (const headers of [{ 'content-type': 'application/json' }, {} as Record<string, string>]) {
      const res = await call(kronus, { method, url, token: admin.token, headers, payload: '{"first_name": "tony",' })
      t.equal(res.statusCode, 400, `${method} ${url} ${JSON.stringify(headers)}`)
      t.equal(res.body.success, false)
    }
  }
})

t.test('a body over 64 KiB is a 413', async (t) => {
  const kronus = await buildKronus(t)
  const big = JSON.stringify({ ...uniqueUserInput(), padding: 'x'.repeat(MAX_BODY_BYTES) })
  const res = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    headers: { 'content-type': 'application/json' },
    payload: big
  })
  t.equal(res.statusCode, 413)
  t.equal(res.body.success, false)
  t.equal((await kronus.knex('users')).length, 0, 'nothing was created')
  const justUnder = JSON.stringify({ ...uniqueUserInput(), padding: 'x'.repeat(MAX_BODY_BYTES - 300) })
  t.equal(
    (
      await call(kronus, {
        method: 'POST',
        url: '/v1/users',
        headers: { 'content-type': 'application/json' },
        payload: justUnder
      })
    ).statusCode,
    201
  )
})

t.test("through a real socket: the seed's flow, documentation, and refusals", async (t) => {
  const kronus = await buildKronus(t, { documentation: true })
  await kronus.start()
  const base = kronus.server.info.uri
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/)
  const send = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, { method, body, headers })
    const payload = await res.text()
    const parsed = res.headers.get('content-type')?.includes('json') ? JSON.parse(payload) : undefined
    assertNoSecrets({ payload, body: parsed }, `${method} ${path}`)
    return { status: res.status, headers: res.headers, payload, body: parsed }
  }

  // fetch sends a string body as text/plain, as curl sends --data-raw as a form: both carry JSON here.
  const created = await send(
    'POST',
    '/v1/users',
    JSON.stringify({
      first_name: 'tony',
      last_name: 'stark',
      email: 'stark@avengers.com',
      password: 'very-secure',
      phone_number: '+12345678900'
    })
  )
  t.equal(created.status, 201)
  t.equal(created.body.data.role_id, 1)
  const loggedIn = await send('POST', '/login', '{"email":"stark@avengers.com","password":"very-secure"}', {
    'content-type': 'application/x-www-form-urlencoded'
  })
  t.equal(loggedIn.status, 200)
  const auth = { authorization: `Bearer ${loggedIn.body.data.token}` }
  const me = await send('GET', `/v1/users/${created.body.data.id}`, undefined, auth)
  t.equal(me.status, 200)
  t.equal(me.body.data.email, 'stark@avengers.com')

  const docs = await send('GET', '/documentation')
  t.equal(docs.status, 200)
  t.match(docs.headers.get('content-type'), /text\/html/)

  t.equal((await send('GET', `/v1/users/${created.body.data.id}`)).status, 401, 'no token')
  t.equal(
    (await send('POST', '/login', '{"email":', { 'content-type': 'application/json' })).status,
    400,
    'malformed JSON'
  )
  const oversized = await send(
    'PUT',
    `/v1/users/${created.body.data.id}`,
    JSON.stringify({ first_name: 'x'.repeat(MAX_BODY_BYTES + 1) }),
    { ...auth, 'content-type': 'application/json' }
  )
  t.equal(oversized.status, 413, 'oversized body')
})

t.test('no bad input gets a 500', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${admin.id}/contacts`,
    token: admin.token,
    payload: { first_name: 'a', last_name: 'b', phone_number: '+15550008888' }
  })
  const bodyRoutes: Array<[string, string]> = [
    ['POST', '/login'],
    ['POST', '/v1/users'],
    ['PUT', `/v1/users/${admin.id}`],
    ['POST', `/v1/users/${admin.id}/contacts`],
    ['PUT', `/v1/users/${admin.id}/contacts/${contact.body.data.id}`],
    ['PUT', `/v1/users/${admin.id}/probe_settings`]
  ]
  const bodies = [
    '1e309',
    '{"first_name": {"nested": {"deeper": [1, 2, 3]}}}',
    '{"__proto__": {"isAdmin": true}}',
    '{"constructor": {"prototype": {"x": 1}}}',
    '{"email": ["a@example.com"], "password": ["x"]}',
    '{"max_retries": 1e309, "wait_time_in_minutes": -0}',
    '{"cron_expression": "' + '* '.repeat(60) + '"}',
    '{"time_zone": "../../etc/passwd"}',
    '{"first_name": "\\u0000", "phone_number": "+1\\u0000"}',
    '\uFEFF{}',
    'true'
  ]
  for (const [method, url] of bodyRoutes) {
    for (const body of bodies) {
      const res = await call(kronus, {
        method,
        url,
        token: admin.token,
        headers: { 'content-type': 'application/json' },
        payload: body
      })
      t.ok(
        res.statusCode < 500,
        `${method} ${url} ${body.slice(0, 40)}: ${res.statusCode} ${res.payload.slice(0, 120)}`
      )
    }
  }
  for (const url of [
    '/v1/users/%00',
    '/v1/users/..%2F..',
    `/v1/users/${admin.id}/contacts/1e3`,
    '/v1/users?page=1&page=2',
    '/v1/users?page[]=1',
    `/v1/users/${admin.id}/probes?page=%FF`
  ]) {
    const res = await call(kronus, { url, token: admin.token })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url}: ${res.statusCode}`)
  }
  t.equal((await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).body.data.role_id, 1)
})

t.test('responses are checked against their schemas at the configured percentage: all at 100, none at 0', async (t) => {
  for (const percent of [100, 0]) {
    const lines: string[] = []
    const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) })
    const kronus = await buildKronus(t, {
      logger,
      config: { kronus: { listener: { responseValidationPercent: percent } } }
    })
    kronus.server.route({
      method: 'GET',
      path: '/test/mismatch',
      options: {
        auth: false,
        response: { schema: Joi.object({ n: Joi.number() }) },
        handler: () => ({ n: 'not a number' })
      }
    })
    for (let i = 0; i < 20; i++) {
      const res = await kronus.server.inject('/test/mismatch')
      t.equal(res.statusCode, 200, 'a mismatch is logged, never turned into a 500')
    }
    const mismatches = lines.filter((line) => line.includes('response does not match its documented schema'))
    t.equal(mismatches.length, percent === 100 ? 20 : 0, `${percent} %: ${mismatches.length} of 20 checked`)
  }
})
