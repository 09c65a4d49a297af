import t from 'tap'
import twilio from 'twilio'
import { isValidTwilioSignature, twilioWebhookUrl } from '../../../plugins/twilio-sms/signature.js'

const AUTH_TOKEN = 'signature-test-token'
const PATH = '/webhook/sms'
// What Twilio posts for an inbound SMS (a representative subset of its fields).
const PARAMS = {
  MessageSid: 'SM' + 'c'.repeat(32),
  AccountSid: 'AC' + '4'.repeat(32),
  MessagingServiceSid: 'MG' + 'd'.repeat(32),
  From: '+15551230000',
  To: '+15557650000',
  Body: 'N & <not> "ok"',
  NumMedia: '0'
}

// Signed exactly as Twilio would, for the URL configured on the Messaging Service.
const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://x.example/webhook/sms', PARAMS)

t.test('twilioWebhookUrl joins publicUrl and path however publicUrl is written', async (t) => {
  t.equal(twilioWebhookUrl('https://x.example', PATH), 'https://x.example/webhook/sms')
  t.equal(twilioWebhookUrl('https://x.example/', PATH), 'https://x.example/webhook/sms')
  t.equal(twilioWebhookUrl('x.example', PATH), 'https://x.example/webhook/sms')
  t.equal(twilioWebhookUrl('x.example/', PATH), 'https://x.example/webhook/sms')
  t.equal(twilioWebhookUrl('  https://x.example//  ', 'webhook/sms'), 'https://x.example/webhook/sms')
  t.equal(
    twilioWebhookUrl('http://localhost:8080', PATH),
    'http://localhost:8080/webhook/sms',
    'an explicit scheme is kept'
  )
  t.equal(
    twilioWebhookUrl('https://x.example/kronus/', PATH),
    'https://x.example/kronus/webhook/sms',
    'a sub-path behind a proxy'
  )
  t.equal(twilioWebhookUrl('x.example', '/webhook/sms?tenant=a'), 'https://x.example/webhook/sms?tenant=a')
})

t.test("a signature made with twilio's helper validates for every spelling of publicUrl", async (t) => {
  for (const publicUrl of ['https://x.example', 'https://x.example/', 'x.example']) {
    t.equal(
      isValidTwilioSignature({ authToken: AUTH_TOKEN, publicUrl, path: PATH, params: PARAMS, signature }),
      true,
      publicUrl
    )
  }
})

t.test('a wrong token, tampered field, other URL or missing signature is rejected', async (t) => {
  const base = { authToken: AUTH_TOKEN, publicUrl: 'x.example', path: PATH, params: PARAMS, signature }
  t.equal(isValidTwilioSignature({ ...base, authToken: 'another-token' }), false, 'wrong token')
  t.equal(isValidTwilioSignature({ ...base, params: { ...PARAMS, Body: 'Y' } }), false, 'tampered Body')
  t.equal(isValidTwilioSignature({ ...base, params: { ...PARAMS, From: '+15550000000' } }), false, 'tampered From')
  t.equal(isValidTwilioSignature({ ...base, params: { ...PARAMS, Extra: '1' } }), false, 'added field')
  t.equal(isValidTwilioSignature({ ...base, publicUrl: 'https://evil.example' }), false, 'other host')
  t.equal(isValidTwilioSignature({ ...base, path: '/webhook/other' }), false, 'other path')
  t.equal(isValidTwilioSignature({ ...base, publicUrl: 'http://x.example' }), false, 'http is not the signed https URL')
  t.equal(isValidTwilioSignature({ ...base, signature: undefined }), false, 'missing header')
  t.equal(isValidTwilioSignature({ ...base, signature: '' }), false, 'empty header')
  t.equal(isValidTwilioSignature({ ...base, authToken: '' }), false, 'no token configured never validates')
  t.equal(
    isValidTwilioSignature({ ...base, publicUrl: 'not a url at all' }),
    false,
    'an unparsable publicUrl fails closed'
  )
})

t.test('a signed query string is part of the URL', async (t) => {
  const sig = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://x.example/webhook/sms?tenant=a', PARAMS)
  const check = { authToken: AUTH_TOKEN, publicUrl: 'x.example', params: PARAMS, signature: sig }
  t.equal(isValidTwilioSignature({ ...check, path: '/webhook/sms?tenant=a' }), true)
  t.equal(isValidTwilioSignature({ ...check, path: '/webhook/sms' }), false)
})
