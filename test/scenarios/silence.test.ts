import t from 'tap'
import { adaWithTwoContacts } from './harness.js'

/*
 * No answer (issue 14, points 1 and 6): silence through the follow-ups raises a no-answer
 * alarm after the last one, as does garbage followed by silence; a late Y after the alarm
 * is the all-clear for every alerted contact, and the user's check-ins resume.
 */

const ASK = 'Are you OK Ada? Reply Y or N.'
const FOLLOW_UP = 'Ada, we have not heard back from you. Are you OK? Reply Y or N.'
const ALERT_WITH_CODE = /Reply OK [A-Za-z0-9]+\b/

t.test('silence through the follow-ups: the contacts are alerted after the last wait, not before', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t, { retries: 2, wait: 10 })
  await s.checkInTime()
  await s.advance(29)
  t.same(
    s.texts(ada).map((m) => [m.minute, m.body]),
    [
      [0, ASK],
      [10, FOLLOW_UP],
      [20, FOLLOW_UP]
    ],
    'the check-in and a follow-up at each wait'
  )
  t.same(s.heard(mary), [], 'nobody alerted while Ada may still answer')
  t.same(s.heard(charles), [])

  await s.advance(1)
  for (const contact of [mary, charles]) {
    const alerts = s.texts(contact)
    t.same(
      alerts.map((m) => m.minute),
      [30],
      `${contact.first_name} alerted once, at the end of the last wait`
    )
    t.match(alerts[0]?.body, /not answered/i, 'says Ada has not answered')
    t.match(alerts[0]?.body, ALERT_WITH_CODE)
  }
  t.equal(await s.probeStatus(ada), 'unavailable')
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { trigger: 'no_answer', status: 'open' })
})

t.test('garbage then silence: a hint, the follow-ups go on, and the alarm comes after the last wait', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t, { retries: 2, wait: 10 })
  await s.checkInTime()
  await s.advance(3)
  t.same(await s.text(ada, 'banana bread'), ['Reply Y if you are OK or N if you need help.'], 'a hint')
  await s.advance(26)
  t.same(
    s.texts(ada).map((m) => [m.minute, m.body]),
    [
      [0, ASK],
      [10, FOLLOW_UP],
      [20, FOLLOW_UP]
    ],
    'garbage changes nothing to the follow-ups'
  )
  t.same(s.heard(mary), [], 'garbage is no alarm')
  await s.advance(1)
  for (const contact of [mary, charles]) {
    t.same(
      s.texts(contact).map((m) => m.minute),
      [30],
      `${contact.first_name} alerted at the end of the last wait`
    )
  }
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { trigger: 'no_answer', status: 'open' })
})

t.test('a late Y after the alarm: all-clear to every alerted contact, check-ins back on', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t, { retries: 1, wait: 10 })
  await s.checkInTime()
  await s.advance(20)
  t.same(
    s.texts(mary).map((m) => m.minute),
    [20],
    'the no-answer alarm at the end of the last wait'
  )
  await s.advance(5)
  const reply = await s.text(ada, 'Y')
  t.equal(reply.length, 1)
  t.notMatch(reply[0], /no check-in waiting/i, 'a late Y is not brushed off')
  await s.settle()

  const told = s.said(ada, 25).join('\n')
  t.match(told, /Your check-ins are back on/, 'Ada is told her check-ins resume')
  for (const contact of [mary, charles]) {
    const clear = s.texts(contact).filter((m) => m.minute === 25)
    t.equal(clear.length, 1, `${contact.first_name} gets the all-clear at once`)
    t.match(clear[0]?.body, /Ada/, 'naming who cleared it')
    t.notMatch(clear[0]?.body ?? '', ALERT_WITH_CODE, 'the all-clear asks nothing more')
  }
  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { status: 'resolved', resolved_reason: /user_ok|ok/i })
  t.equal(await s.checkInsActive(ada), true)

  await s.advance(60)
  t.equal(s.texts(mary).length, 2, 'no reminder after the all-clear')
  t.equal(s.texts(charles).length, 2)

  await s.skip(24 * 60 - 85)
  t.same(
    s
      .texts(ada)
      .filter((m) => m.body === ASK)
      .map((m) => m.minute),
    [0, 24 * 60],
    "the next day's check-in comes on schedule"
  )
})
