import t from 'tap'
import {
  assertAcceptablePassword,
  dummyPasswordHash,
  hashPassword,
  isCommonPassword,
  passwordProblem,
  passwordWorkInFlight,
  verifyPassword
} from '../../src/services/passwords.js'

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

t.test('password work runs one at a time, however many ask at once', async (t) => {
  let peak = 0
  const watch = setInterval(() => {
    peak = Math.max(peak, passwordWorkInFlight())
  }, 0)
  const hashes = await Promise.all(Array.from({ length: 6 }, (_, i) => hashPassword(`parallel-secret-${i}`)))
  const checks = await Promise.all(hashes.map((h, i) => verifyPassword(h, `parallel-secret-${i}`)))
  clearInterval(watch)
  t.same(checks, [true, true, true, true, true, true], 'every queued hash and check completes correctly')
  t.ok(peak <= 1, `never more than one in flight (saw ${peak})`)
  t.equal(passwordWorkInFlight(), 0)
})

t.test('the rules of NIST SP 800-63B: length in characters and the common-password list', async (t) => {
  t.equal(passwordProblem('seven77'), 'must be at least 8 characters long')
  t.equal(passwordProblem('eight-ok'), undefined)
  t.equal(passwordProblem('a'.repeat(128)), undefined)
  t.equal(passwordProblem('a'.repeat(129)), 'must be at most 128 characters long')
  t.equal(passwordProblem('🔑'.repeat(7)), 'must be at least 8 characters long', 'an emoji is one character')
  t.equal(passwordProblem('🔑'.repeat(8)), undefined)
  for (const common of ['password', 'PASSWORD1', 'iloveyou', 'qwertyuiop', '123456789', 'trustno1']) {
    t.ok(isCommonPassword(common), `${common} is on the list`)
    t.match(passwordProblem(common) ?? '', /common/)
  }
  t.notOk(isCommonPassword('very-secure'), "the README's example password stays usable")
  t.throws(() => assertAcceptablePassword('short', 'new_password'), /"new_password" must be at least 8/)
})
