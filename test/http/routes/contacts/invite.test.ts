import t from 'tap'
import { buildScenario, run, text, textsTo } from '../../../alarms/harness.js'
import { call, createContact } from '../../../helpers/http.js'

const DAY = 24 * 3600_000

t.test('an emergency contact who has not agreed can be invited again once a day, with a new code', async (t) => {
  const s = await buildScenario(t)
  const contact = await createContact(s.kronus, s.user, { is_emergency_contact: true, consent_state: 'pending' })
  await run(s)
  const invite = () =>
    call(s.kronus, {
      method: 'POST',
      url: `/v1/users/${s.user.id}/contacts/${contact.id}/invite`,
      token: s.user.token
    })
  const tooSoon = await invite()
  t.equal(tooSoon.statusCode, 429)
  t.match(tooSoon.body.errors[0], /less than 24 hours ago/)
  t.equal(textsTo(s, contact.phone_number).length, 1)

  s.kronus.clock.advance(DAY)
  const again = await invite()
  t.equal(again.statusCode, 200)
  t.equal(again.body.data.consent_state, 'pending')
  await run(s)
  const texts = textsTo(s, contact.phone_number)
  t.equal(texts.length, 2)
  const code = /YES (\d+)/.exec(texts[1]!)![1]!
  t.match(await text(s, contact.phone_number, `YES ${code}`), /Thank you/)
  const agreed = await invite()
  t.equal(agreed.statusCode, 409)
  t.match(agreed.body.errors[0], /already agreed/)
})

t.test('a contact who texted STOP is not texted again until they text START', async (t) => {
  const s = await buildScenario(t)
  const contact = await createContact(s.kronus, s.user, { is_emergency_contact: true, consent_state: 'pending' })
  await run(s)
  await text(s, contact.phone_number, 'STOP')
  s.kronus.clock.advance(DAY)
  const refused = await call(s.kronus, {
    method: 'POST',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}/invite`,
    token: s.user.token
  })
  t.equal(refused.statusCode, 409)
  t.match(refused.body.errors[0], /texted STOP/)
  await text(s, contact.phone_number, 'START')
  const invited = await call(s.kronus, {
    method: 'POST',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}/invite`,
    token: s.user.token
  })
  t.equal(invited.statusCode, 200)
  t.equal(invited.body.data.consent_state, 'pending', 'a refusal can be asked again')
})

t.test(
  'an invitation over the text allowance refuses the new emergency contact with a 429 and saves nothing',
  async (t) => {
    const s = await buildScenario(t, { config: { limits: { textsPerUserPerDay: 2 } } })
    await createContact(s.kronus, s.user, { is_emergency_contact: true, consent_state: 'pending' })
    await createContact(s.kronus, s.user, { is_emergency_contact: true, consent_state: 'pending' })
    const third = await call(s.kronus, {
      method: 'POST',
      url: `/v1/users/${s.user.id}/contacts`,
      token: s.user.token,
      payload: { first_name: 'Third', last_name: 'Person', phone_number: '+16685550199', is_emergency_contact: true }
    })
    t.equal(third.statusCode, 429)
    t.match(third.body.errors[0], /limits\.textsPerUserPerDay/)
    await run(s)
    t.equal(textsTo(s, '+16685550199').length, 0, 'no invitation went out')
    const list = await call(s.kronus, { method: 'GET', url: `/v1/users/${s.user.id}/contacts`, token: s.user.token })
    t.notOk(
      list.body.data.some((c: { phone_number: string }) => c.phone_number === '+16685550199'),
      'the contact was not saved'
    )
  }
)
