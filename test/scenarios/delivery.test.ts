import t from 'tap'
import { accepted, adaWithTwoContacts, TWILIO_REPLIES } from './harness.js'

/*
 * Delivery truth (issue 14, points 4, 5 and 9): Twilio's status callbacks move an
 * undelivered alert on at once; Twilio's API failing for a while delays an alert but never
 * drops it; a user whose own number cannot get texts has contacts told at once; with voice
 * calls on, an undelivered alert becomes a call whose key press 1 acknowledges.
 */

const ALERT_WITH_CODE = /Reply OK [A-Za-z0-9]+\b/

t.test('every text carries a StatusCallback URL, and status callbacks must be signed', async (t) => {
  const { s, ada } = await adaWithTwoContacts(t)
  await s.checkInTime()
  const [ask] = s.texts(ada)
  const url = ask?.form?.get('StatusCallback')
  t.ok(url, 'the check-in carries a StatusCallback URL')
  t.ok(accepted(await s.receipt(ada, 'delivered')), 'a signed callback is taken')
  const unsigned = await s.kronus.server.inject({
    method: 'POST',
    url: new URL(url ?? 'https://kronus.example/').pathname,
    payload: new URLSearchParams({ MessageSid: ask?.sid ?? '', MessageStatus: 'delivered' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(unsigned.statusCode, 401, 'an unsigned one is refused')
})

t.test('an undelivered alert (30003) moves on to the next contact at once', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.escalation(ada, { mode: 'ordered', step_minutes: 10, repeats: 1 })
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  t.same(
    s.texts(mary).map((m) => m.minute),
    [0],
    'Mary first'
  )
  t.same(s.heard(charles), [], 'Charles waits his turn')

  await s.advance(2)
  t.ok(accepted(await s.receipt(mary, 'undelivered', 30003)), "Twilio's callback is taken")
  await s.settle()
  t.same(
    s.texts(charles).map((m) => m.minute),
    [2],
    "Charles alerted the moment Mary's phone proved unreachable, not after the step"
  )
  t.match(s.texts(charles)[0]?.body, ALERT_WITH_CODE)

  const [alarm] = await s.alarmRows(ada)
  const contacts = await s.alarmContactRows(alarm.id)
  t.match(
    contacts.map((c) => [c.name, c.state, c.error_code]),
    [
      [/Mary/, 'undelivered', 30003],
      [/Charles/, /queued|sent/]
    ]
  )
  const [listed] = await s.alarms(ada)
  t.match(listed, { status: 'open' })
  t.match(JSON.stringify(listed), /undelivered/, 'the API shows Mary undelivered')

  await s.advance(2)
  t.ok(accepted(await s.receipt(charles, 'delivered')), "Twilio's callback is taken")
  await s.settle()
  for (const said of s.said(ada)) {
    t.notMatch(said, /reached[^.]*Mary/i, 'Ada is never told Mary was reached')
  }
})

t.test('Twilio answers 5xx for 20 minutes for one contact: the alert still goes out after', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  s.refuse(charles, TWILIO_REPLIES.serverError, 20)
  await s.text(ada, 'N')
  await s.settle()
  t.equal(s.texts(mary)[0]?.minute, 0, 'Mary alerted at once')
  t.same(s.texts(charles), [], 'Twilio refuses Charles')
  t.ok(s.refused().length >= 1, 'Kronus tried')

  await s.advance(19)
  t.same(s.texts(charles), [], 'still refused during the outage')
  t.ok(s.refused().filter((r) => r.to === charles.phone).length >= 3, 'Kronus keeps trying through the outage')

  await s.advance(21)
  const alerts = s.texts(charles)
  t.ok(alerts.length >= 1, 'the alert reached Twilio after the outage')
  t.ok((alerts[0]?.minute ?? -1) >= 20 && (alerts[0]?.minute ?? 99) <= 40, `at minute ${alerts[0]?.minute}`)
  t.match(alerts[0]?.body, ALERT_WITH_CODE)
  t.same(await s.deadJobs(), [], 'no job abandoned')
  const [alarm] = await s.alarmRows(ada)
  const contacts = await s.alarmContactRows(alarm.id)
  t.notOk(
    contacts.some((c) => c.state === 'waiting' || c.state === 'queued'),
    'every contact is alerted now'
  )
})

t.test("the user's number is invalid (21211): contacts told at once Kronus cannot reach her", async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  s.refuse(ada, TWILIO_REPLIES.invalidNumber)
  await s.checkInTime()
  t.equal(s.refused().filter((r) => r.to === ada.phone).length, 1, 'the check-in is refused once: 21211 is permanent')

  for (const contact of [mary, charles]) {
    const told = s.texts(contact)
    t.same(
      told.map((m) => m.minute),
      [0],
      `${contact.first_name} told at once`
    )
    t.match(told[0]?.body, /Ada/)
    t.match(told[0]?.body, /can(not|'t| no longer) (reach|text)/i, 'Kronus cannot reach her, so cannot check on her')
    t.notMatch(told[0]?.body ?? '', /not answered/i, 'not "has not answered"')
  }
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { trigger: 'unreachable' })

  await s.advance(60)
  for (const contact of [mary, charles]) {
    for (const said of s.said(contact)) t.notMatch(said, /not answered/i, 'no "has not answered" later')
  }
})

t.test('voice calls on: an undelivered alert becomes a call, and pressing 1 acknowledges', async (t) => {
  // Calls come from a Twilio number: a Messaging Service cannot place them.
  const { s, ada, mary, charles } = await adaWithTwoContacts(t, {
    config: { twilio: { callerNumber: '+15550008888' } } as any
  })
  await s.escalation(ada, { voice_calls: true })
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  t.same(s.calls(mary), [], 'no call while the text may arrive')

  await s.advance(1)
  t.ok(accepted(await s.receipt(mary, 'undelivered', 30003)), "Twilio's callback is taken")
  await s.settle()
  const calls = s.calls(mary)
  t.same(
    calls.map((c) => c.minute),
    [1],
    'Mary called at once'
  )
  const spoken = await s.spoken(calls[0]!)
  t.match(spoken, /Ada/, 'the call says whom it is about')
  t.match(spoken, /press 1/i, 'and asks to press 1')
  const pressed = await s.press(mary, '1')
  t.equal(pressed.statusCode, 200)
  await s.settle()

  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'acknowledged' })
  const contacts = await s.alarmContactRows(alarm.id)
  t.match(
    contacts.find((c) => c.name.includes('Mary')),
    { state: 'acknowledged' }
  )
  t.match(s.said(ada, 1).join('\n'), /Mary/, 'Ada is told Mary is coming')
  t.match(s.said(charles, 1).join('\n'), /Mary/, 'Charles is told Mary is on it')

  const before = s.outbox().length
  await s.advance(60)
  t.equal(s.outbox().length, before, 'no more texts or calls')
})
