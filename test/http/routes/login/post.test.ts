import { createPublicKey, verify } from 'node:crypto'
import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, decodeToken, login } from '../../../helpers/http.js'

const limits = {
  auth: { maxFailedLogins: 3, maxLoginDelayMinutes: 1, maxFailedLoginsPerAddress: 100, failedLoginWindowMinutes: 15 }
}

t.test("login returns an RS256 token with the seed's claims, verifiable with GET /jwks", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus, { first_name: 'tony', last_name: 'stark' })
  const user = await createUser(kronus, admin, { first_name: 'peter', last_name: 'parker' })

  const res = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: admin.email, password: admin.password }
  })
  t.equal(res.statusCode, 200)
  t.same(Object.keys(res.body), ['success', 'data'])
  t.same(Object.keys(res.body.data), ['token'])

  const jwks = await call(kronus, { url: '/jwks' })
  t.equal(jwks.statusCode, 200)
  t.equal(jwks.body.keys.length, 1)
  const jwk = jwks.body.keys[0]
  t.match(jwk, { kty: 'RSA', alg: 'RS256', use: 'sig', kid: String, n: String, e: String })
  t.notOk('d' in jwk, 'no private part is published')
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' })

  for (const [who, token] of [
    ['admin', res.body.data.token],
    ['user', user.token]
  ] as const) {
    const { header, payload, signingInput, signature } = decodeToken(token)
    t.match(header, { alg: 'RS256', kid: jwk.kid }, `${who}: header`)
    t.ok(
      verify('RSA-SHA256', Buffer.from(signingInput), publicKey, signature),
      `${who}: the published key verifies the signature`
    )
    t.equal(payload.iss, 'kronus')
    t.equal(payload.iat, Math.floor(kronus.clock.now() / 1000), `${who}: issued now, by Kronus's clock`)
    t.equal(payload.exp, payload.iat + 3600, `${who}: valid for 1 hour`)
    t.equal(payload.aud, 'kronus-api', `${who}: issued for the API`)
    t.match(payload.jti, /^[0-9a-f-]{36}$/, `${who}: has its own id, for logout`)
    t.equal(payload.ver, 0, `${who}: carries the user's token version`)
    t.notOk('password' in payload || 'password_hash' in payload)
  }
  t.match(decodeToken(res.body.data.token).payload, {
    sub: String(admin.id),
    first_name: 'tony',
    last_name: 'stark',
    is_admin: true
  })
  t.match(decodeToken(user.token).payload, {
    sub: String(user.id),
    first_name: 'peter',
    last_name: 'parker',
    is_admin: false
  })
  t.equal(typeof decodeToken(user.token).payload.sub, 'string', 'sub is the id as a string')
})

t.test('a wrong password or unknown email is a 401 that does not say which', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const wrong = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: admin.email, password: 'not-it' }
  })
  t.equal(wrong.statusCode, 401)
  const unknown = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: 'nobody@example.com', password: 'not-it' }
  })
  t.equal(unknown.statusCode, 401)
  t.same(wrong.body, unknown.body)
  t.same(wrong.body, { success: false, errors: ['invalid email or password'] })
})

t.test('login accepts the email in any case', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  t.ok(await login(kronus, admin.email.toUpperCase(), admin.password))
})

t.test('bad login bodies are 400s naming the field', async (t) => {
  const kronus = await buildKronus(t)
  for (const [payload, field] of [
    [{ password: 'x' }, 'email'],
    [{ email: 'a@example.com' }, 'password'],
    [{ email: 'not-an-email', password: 'x' }, 'email'],
    [{ email: 'a@example.com', password: '' }, 'password']
  ] as const) {
    const res = await call(kronus, { method: 'POST', url: '/login', payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload))
    t.match(res.body.errors.join(' '), field)
  }
  const malformed = await call(kronus, {
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/json' },
    payload: '{"email":'
  })
  t.equal(malformed.statusCode, 400)
})

t.test('an attacker failing on an account does not lock its owner out', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const attempt = (password: string, remoteAddress: string) =>
    call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password }, remoteAddress })
  for (let i = 0; i < 3; i++) t.equal((await attempt(`guess-${i}`, '203.0.113.66')).statusCode, 401)
  t.equal((await attempt('guess-3', '203.0.113.66')).statusCode, 429, 'the attacker now has to wait')
  for (const address of ['10.0.0.1', '10.0.0.2']) {
    t.equal(
      (await attempt(admin.password, address)).statusCode,
      200,
      `the owner's correct password from ${address} is accepted at once`
    )
  }
})

t.test('a client that keeps failing waits longer each time, up to the ceiling', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const attempt = (password: string) =>
    call(kronus, {
      method: 'POST',
      url: '/login',
      payload: { email: admin.email, password },
      remoteAddress: '198.51.100.4'
    })
  for (let i = 0; i < 3; i++) t.equal((await attempt('guess')).statusCode, 401, `failure ${i + 1} costs nothing`)
  // maxLoginDelayMinutes: 1 caps the doubling at 60 s.
  for (const waitSec of [1, 2, 4, 8, 16, 32, 60, 60]) {
    const limited = await attempt('guess')
    t.equal(limited.statusCode, 429, `waits ${waitSec} s`)
    t.equal(limited.headers['retry-after'], String(waitSec))
    t.match(limited.body.errors[0], /too many failed logins/)
    kronus.clock.advance(waitSec * 1000 - 1)
    t.equal((await attempt(admin.password)).statusCode, 429, 'even the right password waits until the end')
    kronus.clock.advance(1)
    t.equal((await attempt('guess')).statusCode, 401, 'then one more guess is checked')
  }
  kronus.clock.advance(60_000)
  t.equal((await attempt(admin.password)).statusCode, 200, 'the right password after the wait')
  t.equal((await attempt('typo')).statusCode, 401, 'and a success forgets the failures')
  t.equal((await attempt(admin.password)).statusCode, 200)
})

t.test('failed logins are limited per address across accounts', async (t) => {
  const kronus = await buildKronus(t, { config: { auth: { ...limits.auth, maxFailedLoginsPerAddress: 3 } } })
  const admin = await createAdmin(kronus)
  const victims = [await createUser(kronus, admin), await createUser(kronus, admin), await createUser(kronus, admin)]
  for (const victim of victims) {
    const res = await call(kronus, {
      method: 'POST',
      url: '/login',
      payload: { email: victim.email, password: 'guess' },
      remoteAddress: '192.0.2.7'
    })
    t.equal(res.statusCode, 401)
  }
  const next = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: admin.email, password: admin.password },
    remoteAddress: '192.0.2.7'
  })
  t.equal(next.statusCode, 429, 'that address is blocked, whatever account it tries')
  t.equal(next.headers['retry-after'], String(15 * 60))
  const elsewhere = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: admin.email, password: admin.password },
    remoteAddress: '192.0.2.8'
  })
  t.equal(elsewhere.statusCode, 200, 'other addresses are not affected')
  kronus.clock.advanceMinutes(15)
  const later = await call(kronus, {
    method: 'POST',
    url: '/login',
    payload: { email: admin.email, password: admin.password },
    remoteAddress: '192.0.2.7'
  })
  t.equal(later.statusCode, 200, 'the window is over')
})

t.test('simultaneous guesses of one client cannot slip past the limit together', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      call(kronus, {
        method: 'POST',
        url: '/login',
        payload: { email: admin.email, password: `guess-${i}` },
        remoteAddress: '10.1.0.1'
      })
    )
  )
  const codes = results.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 401).length, 3, 'only as many passwords are checked as the limit allows')
  t.equal(codes.filter((c) => c === 429).length, 9)
})

t.test('behind trusted proxies the client is read from X-Forwarded-For', async (t) => {
  const kronus = await buildKronus(t, {
    config: { ...limits, kronus: { listener: { trustProxy: ['10.9.0.0/16', '::1'] } } }
  })
  const admin = await createAdmin(kronus)
  const viaProxy = (password: string, forwardedFor: string, proxy = '10.9.0.2') =>
    call(kronus, {
      method: 'POST',
      url: '/login',
      payload: { email: admin.email, password },
      remoteAddress: proxy,
      headers: { 'x-forwarded-for': forwardedFor }
    })
  // The attacker sends an X-Forwarded-For of their own: the proxy appends their real address to it.
  for (let i = 0; i < 4; i++) await viaProxy('guess', '198.51.100.1, 203.0.113.66')
  t.equal((await viaProxy('guess', '203.0.113.66')).statusCode, 429, 'the attacker is held back')
  t.equal(
    (await viaProxy(admin.password, '198.51.100.1')).statusCode,
    200,
    'the address the attacker forged is not blamed'
  )
  t.equal((await viaProxy(admin.password, '203.0.113.9, 10.9.0.7')).statusCode, 200, 'read through two trusted hops')

  // A client that is not a trusted proxy cannot choose its address with the header.
  for (let i = 0; i < 3; i++) await viaProxy('guess', '203.0.113.9', '198.51.100.50')
  t.equal(
    (await viaProxy('guess', '203.0.113.10', '198.51.100.50')).statusCode,
    429,
    'the header of an untrusted peer is ignored'
  )
})

t.test('an IPv6 client counts as its /64, so fresh addresses from it buy no fresh guesses', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const attempt = (password: string, remoteAddress: string) =>
    call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password }, remoteAddress })
  for (let i = 1; i <= 3; i++) t.equal((await attempt('guess', `2001:db8:1:2::${i}`)).statusCode, 401)
  t.equal((await attempt('guess', '2001:db8:1:2:ffff::9')).statusCode, 429, 'another address of the same /64 waits')
  t.equal((await attempt(admin.password, '2001:db8:1:3::1')).statusCode, 200, 'the next /64 is someone else')
})

t.test('without trustProxy X-Forwarded-For is ignored', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const attempt = (password: string, forwardedFor: string) =>
    call(kronus, {
      method: 'POST',
      url: '/login',
      payload: { email: admin.email, password },
      remoteAddress: '10.9.0.2',
      headers: { 'x-forwarded-for': forwardedFor }
    })
  for (let i = 0; i < 3; i++) t.equal((await attempt('guess', `203.0.113.${i}`)).statusCode, 401)
  t.equal((await attempt('guess', '203.0.113.99')).statusCode, 429, 'a new forwarded address does not buy new guesses')
})

t.test("successful logins do not use up an address's allowance", async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  for (let i = 0; i < 6; i++) t.ok(await login(kronus, admin.email, admin.password))
  const wrong = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: 'oops' } })
  t.equal(wrong.statusCode, 401, 'a typo after many good logins is still just a 401')
  t.ok(await login(kronus, admin.email, admin.password), 'and the next good login works')
})
