import t from 'tap'
import { alarmTexts } from '../../src/alarms/texts.js'
import { consentTexts } from '../../src/services/contact-consent.js'
import {
  alarmContacts,
  alarmsOf,
  buildScenario,
  checkIn,
  run,
  type Scenario,
  text,
  textsTo
} from '../alarms/harness.js'
import { call, createContact } from '../helpers/http.js'

const ADA = { first_name: 'Ada', last_name: 'Lovelace' }

/** A new emergency contact of Ada's, through the API, with their invitation sent. */
async function invitedContact(s: Scenario, overrides: Record<string, unknown> = {}) {
  const contact = await createContact(s.kronus, s.user, {
    first_name: 'Bea',
    last_name: 'Contact',
    is_emergency_contact: true,
    consent_state: 'pending',
    ...overrides
  })
  await run(s)
  return contact
}

async function consentOf(s: Scenario, contactId: number) {
  return s.kronus.knex('contacts').where({ id: contactId }).first()
}

async function probesOn(s: Scenario) {
  return call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/probe_settings`,
    token: s.user.token,
    payload: { active: true }
  })
}

t.test(
  'a new emergency contact gets one invitation: who added them, what Kronus sends, YES <code> or STOP',
  async (t) => {
    const s = await buildScenario(t)
    const contact = await invitedContact(s)
    t.equal(contact.consent_state, 'pending')
    t.type(contact.invited_at, 'string')
    t.equal(contact.consent_at, null)
    t.notOk('consent_code' in contact, "the code is the contact's answer, never shown to the user")
    const row = await consentOf(s, contact.id)
    t.match(row.consent_code, /^\d{2}$/, 'a two-digit code, as in YES 17')
    const invitation = consentTexts.invitation({ ...ADA, phone_number: s.user.phone_number }, row.consent_code)
    t.same(textsTo(s, contact.phone_number), [invitation])
    t.equal(
      invitation,
      `Ada Lovelace (${s.user.phone_number}) added you as their emergency contact on Kronus, a check-in service. ` +
        `Kronus will text you an alert if Ada says they need help or does not answer a check-in. Reply YES ${row.consent_code} to agree or STOP to refuse.`
    )
    t.same(
      (await s.kronus.events.list({ type: 'contact.invited' })).map((e) => e.payload),
      [{ userId: s.user.id, contactId: contact.id }]
    )
    const plain = await createContact(s.kronus, s.user, { is_emergency_contact: false })
    await run(s)
    t.same(textsTo(s, plain.phone_number), [], 'a contact who is not an emergency contact gets no text')
    t.equal(plain.consent_state, null)
  }
)

t.test('names in the invitation are cut short', async (t) => {
  const text = consentTexts.invitation(
    { first_name: 'A'.repeat(100), last_name: 'B'.repeat(100), phone_number: '+1' },
    '17'
  )
  t.notMatch(text, /A{31}/)
  t.notMatch(text, /B{31}/)
})

t.test('YES and the code from the contact agrees; the user is told; a wrong code changes nothing', async (t) => {
  const s = await buildScenario(t)
  const contact = await invitedContact(s)
  const { consent_code: code } = await consentOf(s, contact.id)
  const wrong = code === '99' ? '98' : '99'

  t.equal(await text(s, contact.phone_number, `YES ${wrong}`), alarmTexts.unknownCode(wrong))
  t.equal((await consentOf(s, contact.id)).consent_state, 'pending')
  t.equal(
    await text(s, '+15559990000', `YES ${code}`),
    alarmTexts.unknownCode(code),
    'another phone cannot agree for them'
  )
  t.equal((await consentOf(s, contact.id)).consent_state, 'pending')

  t.equal(
    await text(s, contact.phone_number, `yes ${code}`),
    consentTexts.agreedToContact({ ...ADA, phone_number: s.user.phone_number })
  )
  const agreed = await consentOf(s, contact.id)
  t.equal(agreed.consent_state, 'agreed')
  t.equal(Number(agreed.consent_at), s.kronus.clock.now())
  t.same(textsTo(s, s.user.phone_number), [
    `Bea Contact (${contact.phone_number}) agreed to be your emergency contact.`
  ])
  t.same(
    (await s.kronus.events.list({ type: 'contact.agreed' })).map((e) => e.payload),
    [{ userId: s.user.id, contactId: contact.id }]
  )
  t.equal(
    await text(s, contact.phone_number, `YES ${code}`),
    alarmTexts.unknownCode(code),
    'agreeing twice: nothing waits'
  )
  t.equal(textsTo(s, s.user.phone_number).length, 1)
})

t.test('STOP from the contact refuses the invitation; the user is told once', async (t) => {
  const s = await buildScenario(t)
  const contact = await invitedContact(s)
  await text(s, contact.phone_number, 'STOP')
  const row = await consentOf(s, contact.id)
  t.equal(row.consent_state, 'refused')
  t.not(row.sms_opted_out_at, null, 'and Kronus can no longer text them, as before')
  t.same(textsTo(s, s.user.phone_number), [
    consentTexts.refusedToUser({ first_name: 'Bea', last_name: 'Contact', phone_number: contact.phone_number })
  ])
  t.same(
    (await s.kronus.events.list({ type: 'contact.refused' })).map((e) => e.payload),
    [{ userId: s.user.id, contactId: contact.id }]
  )
})

t.test('the contact list shows each contact state', async (t) => {
  const s = await buildScenario(t)
  const pending = await invitedContact(s)
  const agreed = await createContact(s.kronus, s.user, { is_emergency_contact: true })
  const refused = await invitedContact(s, { first_name: 'Cy' })
  await text(s, refused.phone_number, 'STOP')
  const plain = await createContact(s.kronus, s.user)
  const res = await call(s.kronus, { url: `/v1/users/${s.user.id}/contacts`, token: s.user.token })
  t.equal(res.statusCode, 200)
  const states = Object.fromEntries(res.body.data.map((c: any) => [c.id, c.consent_state]))
  t.same(states, { [pending.id]: 'pending', [agreed.id]: 'agreed', [refused.id]: 'refused', [plain.id]: null })
})

t.test('probes cannot be turned on with only pending emergency contacts', async (t) => {
  const s = await buildScenario(t)
  const contact = await invitedContact(s)
  const refused = await probesOn(s)
  t.equal(refused.statusCode, 403)
  t.match(refused.body.errors[0], /not agreed yet/)
  const { consent_code: code } = await consentOf(s, contact.id)
  await text(s, contact.phone_number, `YES ${code}`)
  t.equal((await probesOn(s)).statusCode, 200)
})

t.test('an alarm still alerts a pending contact', async (t) => {
  const s = await buildScenario(t)
  const contact = await invitedContact(s)
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  t.ok(alarm, 'the alarm is raised')
  t.same(
    (await alarmContacts(s, alarm.id)).map((c) => c.contact_id),
    [contact.id]
  )
  const texts = textsTo(s, contact.phone_number)
  t.equal(texts.length, 2, 'the invitation, then the alert')
  t.match(texts[1], /Ada/)
  t.match(texts[1], new RegExp(`OK ${alarm.code}`))
})

t.test('a YES with an open alarm code is the alarm answer; the invitation code never equals it', async (t) => {
  const s = await buildScenario(t)
  const first = await invitedContact(s)
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  // Another user adds the same phone: its new code is not the alarm's.
  const bob = await s.kronus.services.contacts.create(s.admin.id, {
    first_name: 'Bea',
    last_name: 'Contact',
    phone_number: first.phone_number,
    is_emergency_contact: true
  })
  await run(s)
  const row = await consentOf(s, bob.id)
  t.not(row.consent_code, alarm.code)
  t.not(row.consent_code, (await consentOf(s, first.id)).consent_code)
  t.match(await text(s, first.phone_number, `YES ${alarm.code}`), /Ada/, 'the alarm is acknowledged')
  t.equal((await consentOf(s, first.id)).consent_state, 'pending')
})

t.test('changing an emergency contact phone number asks the new number again', async (t) => {
  const s = await buildScenario(t)
  const contact = await createContact(s.kronus, s.user, { is_emergency_contact: true })
  t.equal(contact.consent_state, 'agreed')
  const res = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
    token: s.user.token,
    payload: { phone_number: '+16665550199' }
  })
  t.equal(res.statusCode, 200)
  t.equal(res.body.data.consent_state, 'pending')
  await run(s)
  t.match(textsTo(s, '+16665550199'), [/Reply YES \d{2} to agree or STOP to refuse/])
  t.same(textsTo(s, contact.phone_number), [], 'the old number is not texted')

  const renamed = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
    token: s.user.token,
    payload: { first_name: 'Renamed' }
  })
  t.equal(renamed.body.data.consent_state, 'pending')
  await run(s)
  t.equal(textsTo(s, '+16665550199').length, 1, 'a new name is no new invitation')
})

t.test('a contact marked as an emergency contact later is invited then', async (t) => {
  const s = await buildScenario(t)
  const contact = await createContact(s.kronus, s.user)
  const res = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
    token: s.user.token,
    payload: { is_emergency_contact: true }
  })
  t.equal(res.body.data.consent_state, 'pending')
  await run(s)
  t.match(textsTo(s, contact.phone_number), [/Reply YES \d{2}/])
})
