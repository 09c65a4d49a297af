import t from 'tap'
import { createPublicKey, verify } from 'node:crypto'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createUser, decodeToken, login } from '../../../helpers/http.js'

const limits = { auth: { maxFailedLogins: 3, failedLoginWindowMinutes: 15 } }

t.test('login returns an RS256 token with the seed\'s claims, verifiable with GET /jwks', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus, { first_name: 'tony', last_name: 'stark' })
  const user = await createUser(kronus, admin, { first_name: 'peter', last_name: 'parker' })

  const res = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: admin.password } })
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

  for (const [who, token] of [['admin', res.body.data.token], ['user', user.token]] as const) {
    const { header, payload, signingInput, signature } = decodeToken(token)
    t.match(header, { alg: 'RS256', kid: jwk.kid }, `${who}: header`)
    t.ok(verify('RSA-SHA256', Buffer.from(signingInput), publicKey, signature), `${who}: the published key verifies the signature`)
    t.equal(payload.iss, 'kronus')
    t.equal(payload.iat, Math.floor(kronus.clock.now() / 1000), `${who}: issued now, by Kronus's clock`)
    t.equal(payload.exp, payload.iat + 24 * 3600, `${who}: valid for 24 hours`)
    t.notOk('password' in payload || 'password_hash' in payload)
  }
  t.match(decodeToken(res.body.data.token).payload, { sub: String(admin.id), first_name: 'tony', last_name: 'stark', is_admin: true })
  t.match(decodeToken(user.token).payload, { sub: String(user.id), first_name: 'peter', last_name: 'parker', is_admin: false })
  t.equal(typeof decodeToken(user.token).payload.sub, 'string', 'sub is the id as a string')
})

t.test('a wrong password or unknown email is a 401 that does not say which', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const wrong = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: 'not-it' } })
  t.equal(wrong.statusCode, 401)
  const unknown = await call(kronus, { method: 'POST', url: '/login', payload: { email: 'nobody@example.com', password: 'not-it' } })
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
  const malformed = await call(kronus, { method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{"email":' })
  t.equal(malformed.statusCode, 400)
})

t.test('failed logins are limited per account, and the window resets', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const attempt = (password: string, remoteAddress: string) =>
    call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password }, remoteAddress })

  // Three failures from three addresses: the account, not the address, is what runs out.
  for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) t.equal((await attempt('guess', address)).statusCode, 401)
  const limited = await attempt(admin.password, '10.0.0.4')
  t.equal(limited.statusCode, 429, 'even the right password waits')
  t.equal(limited.headers['retry-after'], String(15 * 60))
  t.match(limited.body.errors[0], /too many failed logins/)

  kronus.clock.advanceMinutes(10)
  t.equal((await attempt(admin.password, '10.0.0.4')).headers['retry-after'], String(5 * 60), 'Retry-After counts down')
  kronus.clock.advanceMinutes(5)
  t.equal((await attempt(admin.password, '10.0.0.4')).statusCode, 200, 'the window is over')
})

t.test('failed logins are limited per address across accounts', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const victims = [await createUser(kronus, admin), await createUser(kronus, admin), await createUser(kronus, admin)]
  for (const victim of victims) {
    const res = await call(kronus, { method: 'POST', url: '/login', payload: { email: victim.email, password: 'guess' }, remoteAddress: '192.0.2.7' })
    t.equal(res.statusCode, 401)
  }
  const next = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: admin.password }, remoteAddress: '192.0.2.7' })
  t.equal(next.statusCode, 429, 'that address is blocked, whatever account it tries')
  t.ok(Number(next.headers['retry-after']) > 0)
  const elsewhere = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: admin.password }, remoteAddress: '192.0.2.8' })
  t.equal(elsewhere.statusCode, 200, 'other addresses are not affected')
  kronus.clock.advanceMinutes(15)
  const later = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: admin.password }, remoteAddress: '192.0.2.7' })
  t.equal(later.statusCode, 200)
})

t.test('simultaneous guesses cannot slip past the limit together', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: `guess-${i}` }, remoteAddress: `10.1.0.${i}` }))
  )
  const codes = results.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 401).length, 3, 'only as many passwords are checked as the limit allows')
  t.equal(codes.filter((c) => c === 429).length, 9)
})

t.test('successful logins do not use up an address\'s allowance', async (t) => {
  const kronus = await buildKronus(t, { config: limits })
  const admin = await createAdmin(kronus)
  for (let i = 0; i < 6; i++) t.ok(await login(kronus, admin.email, admin.password))
  const wrong = await call(kronus, { method: 'POST', url: '/login', payload: { email: admin.email, password: 'oops' } })
  t.equal(wrong.statusCode, 401, 'a typo after many good logins is still just a 401')
  t.ok(await login(kronus, admin.email, admin.password), 'and the next good login works')
})
