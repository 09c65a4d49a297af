import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ROLE_ID } from '../../src/domain/constants.js'
import { VerifiedTokens } from '../../src/http/auth.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import {
  call,
  createAdmin,
  createContact,
  createUser,
  decodeToken,
  hs256Token,
  login,
  signRs256,
  type TestUser,
  unsignedToken
} from '../helpers/http.js'
import { otherPrivateKeyPem, testPrivateKeyPem } from '../helpers/keys.js'
import { protectedRoutes } from './protected-routes.js'

const HOUR_MS = 3600_000
const attackerKeyPem = otherPrivateKeyPem()

/*
 * Every token below claims to be the admin (or the target user), so a route that let any
 * of them through would hand out another user's data: all of them must get 401.
 */
type BadToken = (world: { kronus: TestKronus; admin: TestUser; deleted: TestUser }) => string | undefined

const badTokens: Record<string, BadToken> = {
  'no token': () => undefined,
  'token of a deleted user': ({ deleted }) => deleted.token,
  'expired token': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id) }, kronus.clock.now() - HOUR_MS - 1000),
  'token signed with another RSA key': ({ kronus, admin }) =>
    signRs256(attackerKeyPem, { sub: String(admin.id) }, kronus.clock.now()),
  'alg none': ({ kronus, admin }) => unsignedToken({ sub: String(admin.id) }, kronus.clock.now()),
  'HS256 keyed with the server public key': ({ kronus, admin }) =>
    hs256Token(
      kronus.services.auth.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      { sub: String(admin.id) },
      kronus.clock.now()
    ),
  'HS256 keyed with the public key in PKCS#1 form': ({ kronus, admin }) =>
    hs256Token(
      kronus.services.auth.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      { sub: String(admin.id) },
      kronus.clock.now()
    ),
  'wrong issuer': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), iss: 'someone-else' }, kronus.clock.now()),
  'no expiry': ({ kronus, admin }) => {
    const now = Math.floor(kronus.clock.now() / 1000)
    return signRs256(
      testPrivateKeyPem(),
      { sub: String(admin.id), iat: now, exp: undefined as unknown as number },
      kronus.clock.now()
    )
  },
  'no audience': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), aud: undefined }, kronus.clock.now()),
  'audience of something else': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), aud: 'kronus-webhooks' }, kronus.clock.now()),
  'no token version': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), ver: undefined }, kronus.clock.now()),
  'older token version': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), ver: -1 }, kronus.clock.now()),
  'no token id': ({ kronus, admin }) =>
    signRs256(testPrivateKeyPem(), { sub: String(admin.id), jti: undefined }, kronus.clock.now()),
  'subject that is not a user id': ({ kronus }) => signRs256(testPrivateKeyPem(), { sub: 'admin' }, kronus.clock.now()),
  garbage: () => 'not.a.jwt'
}

t.test('every protected route refuses every bad token with 401', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const deleted = await createUser(kronus, admin)
  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${deleted.id}`, token: admin.token })).statusCode,
    200
  )
  const target = await createUser(kronus, admin)
  const contact = await createContact(kronus, target)

  for (const route of protectedRoutes) {
    for (const [kind, make] of Object.entries(badTokens)) {
      const token = make({ kronus, admin, deleted })
      const res = await call(kronus, {
        method: route.method,
        url: route.url({ user: target, contactId: contact.id }),
        payload: route.payload?.(),
        headers: token ? { authorization: `Bearer ${token}` } : {}
      })
      t.equal(res.statusCode, 401, `${route.name} with ${kind}: ${res.payload}`)
      t.equal(res.body?.success, false, `${route.name} with ${kind}: failure envelope`)
    }
  }
  // Nothing above changed the target.
  const still = await call(kronus, { url: `/v1/users/${target.id}/contacts`, token: target.token })
  t.equal(still.body.data.length, 1)
})

t.test('a token stops working 1 hour after it was issued', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  kronus.clock.advance(HOUR_MS - 1000)
  t.equal(
    (await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    200,
    'still valid a second before expiry'
  )
  kronus.clock.advance(1000)
  t.equal(
    (await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    401,
    'refused at expiry'
  )
})

t.test('authorisation follows the stored role, not the token claim', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  // Correctly signed, but claiming is_admin for a basic user: the role in the database decides.
  const lying = signRs256(
    createPrivateKey(testPrivateKeyPem()),
    { sub: String(user.id), is_admin: true },
    kronus.clock.now()
  )
  t.equal((await call(kronus, { url: '/v1/users', token: lying })).statusCode, 403)
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: lying })).statusCode, 200)
})

t.test('the token lifetime is configurable', async (t) => {
  const kronus = await buildKronus(t, { config: { auth: { accessTokenTtlMinutes: 15 } } })
  const admin = await createAdmin(kronus)
  kronus.clock.advanceMinutes(15)
  t.equal(
    (await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    401,
    'refused after 15 minutes'
  )
})

t.test('POST /v1/logout ends the token it carries, and only that one', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const other = await login(kronus, admin.email, admin.password)
  const me = (token: string) => call(kronus, { url: `/v1/users/${admin.id}`, token })

  const res = await call(kronus, { method: 'POST', url: '/v1/logout', token: admin.token })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: null })
  t.equal((await me(admin.token)).statusCode, 401, 'the logged-out token is refused')
  t.equal(
    (await call(kronus, { method: 'POST', url: '/v1/logout', token: admin.token })).statusCode,
    401,
    'it cannot log out twice'
  )
  t.equal((await me(other)).statusCode, 200, 'another token of the same user still works')
  t.ok(await login(kronus, admin.email, admin.password), 'logging in again works')
  t.equal((await call(kronus, { method: 'POST', url: '/v1/logout' })).statusCode, 401, 'logout needs a token')

  // Kept in the database until it would have expired anyway, then cleared by a later logout.
  t.equal(
    (await kronus.knex('revoked_tokens').pluck('jti')).length,
    1,
    'the revocation is stored, for every instance to see'
  )
  kronus.clock.advance(HOUR_MS)
  const late = await login(kronus, admin.email, admin.password)
  t.equal((await call(kronus, { method: 'POST', url: '/v1/logout', token: late })).statusCode, 200)
  const left = await kronus.knex('revoked_tokens').pluck('jti')
  t.same(left, [decodeToken(late).payload.jti], 'only the live revocation is kept')
})

t.test('deleting a user ends their tokens at once', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal((await call(kronus, { method: 'POST', url: '/v1/logout', token: user.token })).statusCode, 401)
})

t.test('a logout and a password change hold on every instance of the database', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-auth-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = await buildKronus(t, { dir })
  const admin = await createAdmin(first)
  const user = await createUser(first, admin)
  const phone = await login(first, user.email, user.password)
  t.equal((await call(first, { method: 'POST', url: '/v1/logout', token: admin.token })).statusCode, 200)
  const payload = { password: 'brand-new-secret', current_password: user.password }
  t.equal(
    (await call(first, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload })).statusCode,
    200
  )
  await first.stop()

  const second = await buildKronus(t, { dir, clock: first.clock })
  t.equal(
    (await call(second, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    401,
    'the logged-out token'
  )
  t.equal(
    (await call(second, { url: `/v1/users/${user.id}`, token: phone })).statusCode,
    401,
    'a token from before the change'
  )
  const fresh = await login(second, user.email, 'brand-new-secret')
  t.equal((await call(second, { url: `/v1/users/${user.id}`, token: fresh })).statusCode, 200)
})

/*
 * The API remembers a token's checked signature (src/http/auth.ts, VerifiedTokens), so
 * each token below has been used, and remembered, before what should end it.
 */
t.test('a token already used stops working at once after a logout, a password change or its expiry', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const me = (who: TestUser, token: string) => call(kronus, { url: `/v1/users/${who.id}`, token })

  const loggedOut = await login(kronus, user.email, user.password)
  t.equal((await me(user, loggedOut)).statusCode, 200, 'the token works')
  t.equal((await call(kronus, { method: 'POST', url: '/v1/logout', token: loggedOut })).statusCode, 200)
  t.equal((await me(user, loggedOut)).statusCode, 401, 'refused right after its logout')

  t.equal((await me(user, user.token)).statusCode, 200, 'another token works')
  const payload = { password: 'brand-new-secret', current_password: user.password }
  t.equal(
    (await call(kronus, { method: 'PUT', url: `/v1/users/${user.id}`, token: user.token, payload })).statusCode,
    200
  )
  t.equal((await me(user, user.token)).statusCode, 401, 'refused right after the password change')

  const fresh = await login(kronus, user.email, 'brand-new-secret')
  t.equal((await me(user, fresh)).statusCode, 200, 'a token of the new password works')
  kronus.clock.advance(HOUR_MS)
  t.equal((await me(user, fresh)).statusCode, 401, 'refused at its expiry')

  const adminToken = await login(kronus, admin.email, admin.password)
  t.equal((await me(user, adminToken)).statusCode, 200, 'an admin reads the user')
  await kronus.knex('users').where({ id: admin.id }).update({ role_id: ROLE_ID.basic })
  t.equal((await me(user, adminToken)).statusCode, 403, 'and no longer once demoted: the role is read every time')
})

t.test('a remembered token is only ever its own: a token altered after use is refused', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })).statusCode, 200)
  const [header, , signature] = user.token.split('.')
  const claims = { ...decodeToken(user.token).payload, sub: String(admin.id) }
  const altered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`
  t.equal((await call(kronus, { url: `/v1/users/${admin.id}`, token: altered })).statusCode, 401)
})

t.test('remembers at most its capacity of checked tokens, forgetting the least recently used first', async (t) => {
  const tokens = new VerifiedTokens(2)
  tokens.set('a', { sub: '1' })
  tokens.set('b', { sub: '2' })
  t.same(tokens.get('a'), { sub: '1' }, 'a is used again')
  tokens.set('c', { sub: '3' })
  t.equal(tokens.size, 2)
  t.equal(tokens.get('b'), undefined, 'b, the least recently used, is forgotten')
  t.same(tokens.get('a'), { sub: '1' })
  t.same(tokens.get('c'), { sub: '3' })
})
