import t from 'tap'
import { dummyPasswordHash, hashPassword, verifyPassword } from '../../src/services/passwords.js'

t.test('passwords are hashed with argon2id, salted, and verified', async (t) => {
  const a = await hashPassword('very-secure')
  const b = await hashPassword('very-secure')
  t.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id at 19 MiB, 2 passes')
  t.not(a, b, 'each hash has its own salt')
  t.equal(await verifyPassword(a, 'very-secure'), true)
  t.equal(await verifyPassword(a, 'very-secure '), false)
  t.equal(await verifyPassword(a, 'Very-secure'), false)
})

t.test('a damaged hash never verifies and never throws', async (t) => {
  t.equal(await verifyPassword('', 'x'), false)
  t.equal(await verifyPassword('$argon2id$garbage', 'x'), false)
})

t.test('the stand-in hash for unknown emails matches no real password', async (t) => {
  const dummy = await dummyPasswordHash()
  t.match(dummy, /^\$argon2id\$/)
  t.equal(await dummyPasswordHash(), dummy, 'computed once')
  t.equal(await verifyPassword(dummy, ''), false)
  t.equal(await verifyPassword(dummy, 'password'), false)
})
