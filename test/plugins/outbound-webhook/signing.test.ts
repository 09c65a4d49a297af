import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { generateSecret, isValidSecret, signatureHeader } from '../../../plugins/outbound-webhook/signing.js'

t.test('generated secrets are whsec_ and the base64 of 32 random bytes', async (t) => {
  const a = generateSecret()
  const b = generateSecret()
  t.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/)
  t.not(a, b)
  t.ok(isValidSecret(a))
})

t.test('a secret must carry 24 to 64 bytes of key', async (t) => {
  const of = (bytes: number) => `whsec_${Buffer.alloc(bytes, 9).toString('base64')}`
  t.equal(isValidSecret(of(23)), false)
  t.equal(isValidSecret(of(24)), true)
  t.equal(isValidSecret(of(64)), true)
  t.equal(isValidSecret(of(65)), false)
  t.equal(isValidSecret(Buffer.alloc(32).toString('base64')), false, 'the prefix is required')
  t.equal(isValidSecret('whsec_not base64!'), false)
})

t.test('signatures are those of the Standard Webhooks reference library', async (t) => {
  const secret = generateSecret()
  const message = { id: 'msg_42', timestamp: 1767614400, body: '{"type":"emergency.triggered","data":{"userId":1}}' }
  const reference = new Webhook(secret).sign(message.id, new Date(message.timestamp * 1000), message.body)
  t.equal(signatureHeader(message, [secret]), reference)
})

t.test('with several secrets, each signs, space-separated', async (t) => {
  const current = generateSecret()
  const previous = generateSecret()
  const message = { id: 'msg_1', timestamp: 1767614400, body: '{}' }
  const header = signatureHeader(message, [current, previous])
  t.same(header.split(' '), [signatureHeader(message, [current]), signatureHeader(message, [previous])])
})
