import t from 'tap'
import { adaWithTwoContacts } from './harness.js'

/*
 * STOP, deletion and restarts (issue 14, points 9 and 10): a user's STOP while a check-in
 * waits tells the contacts; while an alarm is open it does not cancel it; a contact's STOP
 * takes them off and the user is told; a user deleted right after N still has the alarm
 * go out; a restart mid-escalation loses nothing and sends nothing twice.
 */

const ALERT_WITH_CODE = /Reply OK [A-Za-z0-9]+\b/

t.test(
  'STOP by the user while a check-in waits: contacts told she turned check-ins off, no silence alarm',
  async (t) => {
    const { s, ada, mary, charles } = await adaWithTwoContacts(t)
    await s.checkInTime()
    await s.advance(2)
    const reply = await s.text(ada, 'STOP')
    t.match(reply, [/check-ins are off/])
    await s.settle()
    for (const contact of [mary, charles]) {
      const told = s.texts(contact)
      t.same(
        told.map((m) => m.minute),
        [2],
        `${contact.first_name} told at once`
      )
      t.match(told[0]?.body, /Ada/)
      t.match(
        told[0]?.body,
        /check-ins (are )?(off|turned off)|turned (her |their )?check-ins off/i,
        'that Ada turned her check-ins off'
      )
      t.notMatch(told[0]?.body ?? '', /not answered|NOT OK/, 'not that she said no or went silent')
    }
    await s.advance(60)
    t.equal(s.texts(ada).length, 1, 'no follow-up to Ada after STOP')
    for (const contact of [mary, charles]) {
      for (const said of s.said(contact)) t.notMatch(said, /not answered|NOT OK/, 'no silence alarm later')
    }
    t.notOk(
      (await s.alarmRows(ada)).some((a) => a.trigger === 'no_answer' || a.trigger === 'said_no'),
      'the check-in ended by STOP raises no silence alarm'
    )
    t.equal(await s.checkInsActive(ada), false)
  }
)

t.test('STOP by the user while an alarm is open does not cancel the alarm', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  await s.advance(1)
  await s.text(ada, 'STOP')
  await s.advance(10)
  for (const contact of [mary, charles]) {
    t.same(
      s.texts(contact).map((m) => m.minute),
      [0, 10],
      `${contact.first_name} still gets the reminder`
    )
  }
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'open' })
  t.equal(s.texts(ada).filter((m) => m.minute > 1).length, 0, 'nothing is texted to Ada after her STOP')
})

t.test('STOP by a contact: off the alarm, and the user told that contact can no longer get alerts', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  await s.advance(1)
  await s.text(charles, 'STOP')
  await s.settle()
  const told = s.heard(ada).filter((m) => m.minute === 1 && m.kind === 'text')
  t.equal(told.length, 1, 'Ada told at once')
  t.match(told[0]?.body, /Charles/)
  t.match(told[0]?.body, /no longer (receive|get|text)/i, 'that Charles can no longer receive alerts')

  await s.advance(10)
  t.same(
    s.texts(mary).map((m) => m.minute),
    [0, 10],
    'Mary still reminded'
  )
  t.same(
    s.texts(charles).map((m) => m.minute),
    [0],
    'Charles gets nothing after his STOP'
  )
  const contact = await s.kronus.knex('contacts').where({ id: charles.id }).first()
  t.ok(contact.sms_opted_out_at, 'Charles is marked unreachable by text')
})

t.test('delete right after N: 409 without force; with force the alert still goes out', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.text(ada, 'N')
  const refused = await s.api({ method: 'DELETE', url: `/v1/users/${ada.id}`, token: s.admin.token })
  t.equal(refused.statusCode, 409, 'an open alarm blocks deletion')
  const forced = await s.api({ method: 'DELETE', url: `/v1/users/${ada.id}?force=true`, token: s.admin.token })
  t.ok(forced.statusCode >= 200 && forced.statusCode < 300, `forced deletion: ${forced.statusCode}`)
  await s.settle()
  for (const contact of [mary, charles]) {
    const alerts = s.texts(contact)
    t.equal(alerts[0]?.minute, 0, `${contact.first_name} alerted at once all the same`)
    t.match(alerts[0]?.body, /Ada/, 'with the name the alarm was raised with')
    t.match(alerts[0]?.body, ada.phone)
  }
})

t.test('a restart mid-escalation: nothing lost, nothing twice', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.text(ada, 'N')
  // The alerts are queued, not sent, when this Kronus goes away.
  await s.restart()
  await s.settle()
  for (const contact of [mary, charles]) {
    t.same(
      s.texts(contact).map((m) => m.minute),
      [0],
      `${contact.first_name} alerted once by the new Kronus`
    )
  }
  await s.advance(5)
  await s.restart()
  await s.advance(35)
  for (const contact of [mary, charles]) {
    t.same(
      s.texts(contact).map((m) => m.minute),
      [0, 10, 20, 30, 40],
      `${contact.first_name}: the alert, each reminder and the end, once each`
    )
    for (const sent of s.texts(contact)) t.match(sent.body, ALERT_WITH_CODE, 'each says how to acknowledge')
  }
  const code = s.codeFor(mary)
  await s.restart()
  await s.advance(1)
  await s.text(mary, `OK ${code}`)
  await s.settle()
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'acknowledged' }, 'the alarm survives restarts and is acknowledged')
})
