import t from 'tap'
import { createPrivateKey } from 'node:crypto'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { otherPrivateKeyPem, testPrivateKeyPem } from '../helpers/keys.js'
import {
  call,
  createAdmin,
  createContact,
  createUser,
  hs256Token,
  signRs256,
  unsignedToken,
  type TestUser
} from '../helpers/http.js'
import { protectedRoutes } from './protected-routes.js'

const DAY_MS = 24 * 3600_000
const attackerKeyPem = otherPrivateKeyPem()

/*
 * Every token below claims to be the admin (or the target user), so a route that let any
 * of them through would hand out another user's data: all of them must get 401.
 */
type BadToken = (world: { kronus: TestKronus; admin: TestUser; deleted: TestUser }) => string | undefined

const badTokens: Record<string, BadToken> = {
  'no token': () => undefined,
  'token of a deleted user': ({ deleted }) => deleted.token,
  'expired token': ({ kronus, admin }) => signRs256(testPrivateKeyPem(), { sub: String(admin.id) }, kronus.clock.now() - DAY_MS - 1000),
  'token signed with another RSA key': ({ kronus, admin }) => signRs256(attackerKeyPem, { sub: String(admin.id) }, kronus.clock.now()),
  'alg none': ({ kronus, admin }) => unsignedToken({ sub: String(admin.id) }, kronus.clock.now()),
  'HS256 keyed with the server public key': ({ kronus, admin }) =>
    hs256Token(kronus.services.auth.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { sub: String(admin.id) }, kronus.clock.now()),
  'HS256 keyed with the public key in PKCS#1 form': ({ kronus, admin }) =>
    hs256Token(kronus.services.auth.publicKey.export({ type: 'pkcs1', format: 'pem' }).toString(), { sub: String(admin.id) }, kronus.clock.now()),
  'wrong issuer': ({ kronus, admin }) => signRs256(testPrivateKeyPem(), { sub: String(admin.id), iss: 'someone-else' }, kronus.clock.now()),
  'no expiry': ({ kronus, admin }) => {
    const now = Math.floor(kronus.clock.now() / 1000)
    return signRs256(testPrivateKeyPem(), { sub: String(admin.id), iat: now, exp: undefined as unknown as number }, kronus.clock.now())
  },
  'subject that is not a user id': ({ kronus }) => signRs256(testPrivateKeyPem(), { sub: 'admin' }, kronus.clock.now()),
  'garbage': () => 'not.a.jwt'
}

t.test('every protected route refuses every bad token with 401', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const deleted = await createUser(kronus, admin)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${deleted.id}`, token: admin.token })).statusCode, 200)
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

t.test('a token stops working 24 hours after it was issued', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  kronus.clock.advance(DAY_MS - 1000)
  t.equal((await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode, 200, 'still valid a second before expiry')
  kronus.clock.advance(1000)
  t.equal((await call(kronus, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode, 401, 'refused at expiry')
})

t.test('authorisation follows the stored role, not the token claim', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  // Correctly signed, but claiming is_admin for a basic user: the role in the database decides.
  const lying = signRs256(createPrivateKey(testPrivateKeyPem()), { sub: String(user.id), is_admin: true }, kronus.clock.now())
  t.equal((await call(kronus, { url: '/v1/users', token: lying })).statusCode, 403)
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: lying })).statusCode, 200)
})
