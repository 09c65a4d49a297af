import t from 'tap'
import { REFUSED_PHONE_RANGES, refusedPhoneRange } from '../../src/domain/phone-ranges.js'

t.test('each listed range refuses its example, for its own reason', async (t) => {
  for (const rule of REFUSED_PHONE_RANGES) {
    t.equal(refusedPhoneRange(rule.example), rule.reason, rule.example)
  }
})

t.test('the ranges named in the table', async (t) => {
  const premium = /premium-rate/
  t.match(refusedPhoneRange('+19005550100'), premium, 'NANP 900')
  t.match(refusedPhoneRange('+13129761234'), premium, 'NANP exchange 976')
  for (const npa of ['800', '833', '844', '855', '866', '877', '888'])
    t.match(refusedPhoneRange(`+1${npa}5550100`), /toll-free/, `NANP ${npa}`)
  t.match(refusedPhoneRange('+449098790000'), premium, 'UK 09')
  t.match(refusedPhoneRange('+447011234567'), /personal/, 'UK 070')
  t.match(refusedPhoneRange('+448445551234'), /special-rate/, 'UK 084')
  t.match(refusedPhoneRange('+448712345678'), /special-rate/, 'UK 087')
  t.match(refusedPhoneRange('+441632960123'), /landline/, 'UK 01')
  t.match(refusedPhoneRange('+442071234567'), /landline/, 'UK 02')
  t.match(refusedPhoneRange('+33899123456'), premium, 'France 08')
  t.match(refusedPhoneRange('+499001234567'), premium, 'Germany 0900')
  t.match(refusedPhoneRange('+61190012345'), premium, 'Australia 19')
  t.match(refusedPhoneRange('+8816123456789'), /satellite/, '+881')
  t.match(refusedPhoneRange('+88234123456'), /international network/, '+882')
  t.match(refusedPhoneRange('+88312345678'), /international network/, '+883')
  t.match(refusedPhoneRange('+979123456789'), premium, '+979')
})

t.test('mobile numbers and ranges the table does not know pass', async (t) => {
  for (const phone of [
    '+15145550100', // a NANP number with 976 elsewhere than the exchange
    '+19765550100',
    '+447700900123', // UK mobile
    '+33612345678', // France mobile
    '+4915112345678', // Germany mobile
    '+61412345678', // Australia mobile
    '+16665550100'
  ])
    t.equal(refusedPhoneRange(phone), null, phone)
})
