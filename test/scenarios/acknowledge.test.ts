import t from 'tap'
import { adaWithTwoContacts, startScenario } from './harness.js'

/*
 * Acknowledgement and escalation (issue 14, points 2, 3 and 7): a contact answers
 * OK <code>; until someone does, reminders every step_minutes, then everyone told nobody
 * confirmed; ordered escalation adds one contact per step; a contact who is also a user
 * acknowledges without touching her own check-in.
 */

const ALERT_WITH_CODE = /Reply OK [A-Za-z0-9]+\b/

t.test('two contacts, one acknowledges with OK <code>', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  s.mark()
  await s.text(ada, 'N')
  await s.settle()
  const code = s.codeFor(mary)
  t.equal(s.codeFor(charles), code, 'both got the same code')

  await s.advance(3)
  await s.text(mary, `  ok   ${code.toLowerCase()} `)
  await s.settle()

  const maryHeard = s.heard(mary).filter((m) => m.minute === 3)
  t.equal(maryHeard.length, 1, 'Mary gets one confirmation at once')
  t.match(maryHeard[0]?.body, /Ada/, 'the confirmation is about Ada')

  const charlesHeard = s.heard(charles).filter((m) => m.minute === 3)
  t.equal(charlesHeard.length, 1, 'Charles is told at once')
  t.match(charlesHeard[0]?.body, /Mary/, 'Charles is told who is on it')
  t.notMatch(charlesHeard[0]?.body ?? '', ALERT_WITH_CODE, 'and is asked for nothing more')

  const adaHeard = s.heard(ada).filter((m) => m.minute === 3)
  t.equal(adaHeard.length, 1, 'Ada is told at once')
  t.match(adaHeard[0]?.body, /Mary/, 'Ada is told who is coming')
  for (const said of s.said(ada, 0).slice(0, -1)) {
    t.notMatch(said, /help is on the way/i, 'nothing promised help before Mary acknowledged')
  }

  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'acknowledged' })
  const contacts = await s.alarmContactRows(alarm.id)
  t.match(
    contacts.map((c) => [c.name, c.state]),
    [[/Mary/, 'acknowledged'], [/Charles/]]
  )

  await s.advance(120)
  t.same(
    s.heard(mary).filter((m) => m.minute > 3),
    [],
    'no reminder to Mary'
  )
  t.same(
    s.heard(charles).filter((m) => m.minute > 3),
    [],
    'no reminder to Charles'
  )
  t.equal(s.heard(ada).filter((m) => m.minute > 3).length, 0, 'nothing more to Ada')
})

t.test(
  'nobody acknowledges: reminders every step, then everyone told nobody confirmed; the alarm stays open',
  async (t) => {
    const { s, ada, mary, charles } = await adaWithTwoContacts(t)
    const settings = await s.api({ url: `/v1/users/${ada.id}/escalation`, token: ada.token })
    t.equal(settings.statusCode, 200)
    t.match(settings.body?.data, { mode: 'all', step_minutes: 10, repeats: 3, voice_calls: false }, 'the defaults')

    await s.checkInTime()
    await s.text(ada, 'N')
    await s.settle()
    await s.advance(39)
    for (const contact of [mary, charles]) {
      const texts = s.texts(contact)
      t.same(
        texts.map((m) => m.minute),
        [0, 10, 20, 30],
        `${contact.first_name}: the alert and a reminder every 10 minutes, 3 times`
      )
      for (const reminder of texts) t.match(reminder.body, ALERT_WITH_CODE, 'every reminder says how to acknowledge')
    }
    await s.advance(1)
    for (const person of [ada, mary, charles]) {
      const last = s.heard(person).filter((m) => m.minute === 40)
      t.equal(last.length, 1, `${person.first_name} told at minute 40`)
      t.match(
        last[0]?.body,
        /\b(nobody|no one|none|not)\b.*\bconfirmed\b/i,
        `${person.first_name}: nobody has confirmed`
      )
    }
    await s.advance(120)
    t.equal(s.texts(mary).length, 5, 'then silence: nothing more to Mary')
    t.equal(s.texts(charles).length, 5)

    const alarms = await s.alarms(ada)
    t.equal(alarms.length, 1)
    t.match(alarms[0], { status: 'open', trigger: 'said_no' }, 'the alarm stays open and visible')
    const [row] = await s.alarmRows(ada)
    t.ok(row.exhausted_at !== null, 'marked as having run out of steps')
  }
)

t.test('ordered escalation: one contact per step, earlier ones stay on the alarm', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  const grace = await s.addContact(ada, 'Grace', 'Hopper')
  await s.escalation(ada, { mode: 'ordered', step_minutes: 5, repeats: 1 })
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  t.same(
    s.texts(mary).map((m) => m.minute),
    [0],
    'Mary, first in order, at once'
  )
  t.same(s.heard(charles), [], 'Charles not yet')
  t.same(s.heard(grace), [])

  await s.advance(10)
  t.equal(s.texts(charles)[0]?.minute, 5, 'Charles added after one step')
  t.equal(s.texts(grace)[0]?.minute, 10, 'Grace after two')
  t.equal(s.codeFor(grace), s.codeFor(mary), 'one alarm, one code')

  await s.advance(2)
  await s.text(grace, `OK ${s.codeFor(grace)}`)
  await s.settle()
  for (const contact of [mary, charles]) {
    const told = s.heard(contact).filter((m) => m.minute === 12)
    t.equal(told.length, 1, `${contact.first_name}, still on the alarm, is told who is on it`)
    t.match(told[0]?.body, /Grace/)
  }
  t.match(s.said(ada, 12).join('\n'), /Grace/, 'Ada is told Grace is coming')
  const before = s.outbox().length
  await s.advance(60)
  t.equal(s.outbox().length, before, 'escalation stops')
})

t.test('a contact who is also a user, with her own check-in waiting, acknowledges with OK <code>', async (t) => {
  const s = await startScenario(t)
  const ada = await s.addUser('Ada', 'Lovelace')
  const beth = await s.addUser('Beth', 'Harmon')
  const dan = await s.addContact(beth, 'Dan', 'Beth-Contact')
  const bethForAda = await s.addContact(ada, 'Beth', 'Harmon', { phone: beth.phone })
  await s.checkIns(ada)
  await s.checkIns(beth)
  await s.checkInTime()
  t.equal(s.texts(beth).length, 1, 'Beth has her own check-in waiting')

  await s.advance(1)
  await s.text(ada, 'N')
  await s.settle()
  const alert = s.texts(bethForAda).filter((m) => m.minute === 1)
  t.equal(alert.length, 1, 'Beth alerted about Ada')
  const code = s.codeFor(bethForAda)

  await s.advance(1)
  await s.text(beth, `OK ${code}`)
  await s.settle()
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'acknowledged' }, "Beth's answer acknowledges Ada's alarm")
  t.match(s.said(ada, 2).join('\n'), /Beth/, 'Ada is told Beth is coming')
  t.equal(await s.probeStatus(beth), 'pending', "Beth's own check-in is untouched")
  t.same(await s.alarmRows(beth), [], 'no alarm for Beth')
  t.same(s.heard(dan), [], "Beth's own contact hears nothing")

  await s.advance(1)
  t.same(await s.text(beth, 'Y'), ['Thanks Beth, glad you are OK.'], 'her own check-in still takes her answer')
  t.equal(await s.probeStatus(beth), 'good')
})

t.test('a contact resolves the alarm with SAFE <code>: the all-clear to every alerted contact', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.text(ada, 'N')
  await s.settle()
  const code = s.codeFor(mary)
  await s.advance(2)
  await s.text(mary, `OK ${code}`)
  await s.settle()
  await s.advance(5)
  await s.text(mary, `safe ${code}`)
  await s.settle()

  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'resolved', resolved_reason: 'contact_safe' })
  t.match(s.said(charles, 7).join('\n'), /all clear/i, 'Charles hears the all-clear at once')
  t.match(s.said(charles, 7).join('\n'), /Mary/, 'naming who cleared it')
  t.match(s.said(ada, 7).join('\n'), /Mary/, 'Ada is told Mary said she is safe')
  t.match(s.said(ada, 7).join('\n'), /Your check-ins are back on/, 'and that her check-ins resume')
  t.equal(await s.checkInsActive(ada), true, 'check-ins stay on')
  const before = s.outbox().length
  await s.advance(60)
  t.equal(s.outbox().length, before, 'nothing more')
})
