import { createPublicKey } from 'node:crypto'
import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call } from '../../../helpers/http.js'

t.test('jwks needs no token and publishes exactly the public half of the signing key', async (t) => {
  const kronus = await buildKronus(t)
  const res = await call(kronus, { url: '/jwks' })
  t.equal(res.statusCode, 200)
  t.equal(res.body.keys.length, 1)
  const published = createPublicKey({ key: res.body.keys[0], format: 'jwk' })
  t.ok(published.equals(kronus.services.auth.publicKey))
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.notOk(secret in res.body.keys[0], `no "${secret}"`)
})
