import t from 'tap'
import { emergencyTexts, fullName, listNames } from '../../../plugins/emergency-contact/texts.js'

t.test('names are listed as a person would write them', async (t) => {
  t.equal(listNames([]), '')
  t.equal(listNames(['Ann']), 'Ann')
  t.equal(listNames(['Ann', 'Bob']), 'Ann and Bob')
  t.equal(listNames(['Ann', 'Bob', 'Cy']), 'Ann, Bob and Cy')
  t.equal(fullName({ first_name: 'Ada', last_name: 'Lovelace' }), 'Ada Lovelace')
})

t.test('a "no" and silence give the contact different texts, both with the number to call', async (t) => {
  const user = { first_name: 'Ada', last_name: 'Lovelace', phone_number: '+15550001234' }
  const contact = { first_name: 'Grace', last_name: 'Hopper' }
  const bad = emergencyTexts.toContact('bad', contact, user)
  const unavailable = emergencyTexts.toContact('unavailable', contact, user)
  t.not(bad, unavailable)
  t.match(bad, /NOT OK/)
  t.match(unavailable, /has not answered/)
  for (const text of [bad, unavailable]) {
    t.match(text, /^Grace, /)
    t.match(text, 'Ada Lovelace')
    t.match(text, '+15550001234')
  }
})
