import t from 'tap'
import { adaWithTwoContacts, type Scenario, type ScenarioContact, type ScenarioUser, startScenario } from './harness.js'

/*
 * What the user's own answer does (issue 14, point 1): Y and its natural variants end the
 * check-in good; N, and every distress word or phrase while a check-in waits, raise the
 * alarm at once with the person's own words quoted to every contact; SOS, HELP ME and 911
 * raise a panic alarm even with nothing pending; plain help with nothing pending lists
 * the commands and points to SOS.
 */

const ALERTING = 'We are alerting your emergency contacts now.'

/** Every alert text carries the alarm's code and how to answer ("Reply OK 42 ..."). */
const ALERT_WITH_CODE = /Reply OK [A-Za-z0-9]+\b/

t.test('Y: the check-in ends good, nobody is alerted, check-ins stay on for tomorrow', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  t.same(
    s.texts(ada).map((m) => [m.minute, m.body]),
    [[0, 'Are you OK Ada? Reply Y or N.']],
    'the check-in at 18:00'
  )

  await s.advance(2)
  t.same(await s.text(ada, 'Y'), ['Thanks Ada, glad you are OK.'])
  await s.advance(60)
  t.equal(await s.probeStatus(ada), 'good')
  t.same(s.heard(mary), [], 'Mary heard nothing')
  t.same(s.heard(charles), [], 'Charles heard nothing')
  t.same(await s.alarmRows(ada), [], 'no alarm')
  t.equal(await s.checkInsActive(ada), true)

  await s.skip(24 * 60 - 62)
  t.same(
    s.texts(ada).map((m) => [m.minute, m.body]),
    [
      [0, 'Are you OK Ada? Reply Y or N.'],
      [24 * 60, 'Are you OK Ada? Reply Y or N.']
    ],
    "the next day's check-in"
  )
})

t.test('the natural yes answers count as Y; a negation always wins', async (t) => {
  const s = await startScenario(t)
  const yes = ['ok', 'Okay', 'yes.', 'yep', 'Fine', "I'm ok", 'all good', '👍']
  const people: Array<{ user: ScenarioUser; contact: ScenarioContact; answer: string }> = []
  for (const answer of yes) {
    const user = await s.addUser(`Yes${people.length}`, 'Sayer')
    const contact = await s.addContact(user, `Friend${people.length}`, 'Watcher')
    await s.checkIns(user)
    people.push({ user, contact, answer })
  }
  await s.checkInTime()
  for (const { user, answer } of people) {
    t.same(await s.text(user, answer), [`Thanks ${user.first_name}, glad you are OK.`], `"${answer}" is a yes`)
  }
  await s.advance(60)
  for (const { user, contact, answer } of people) {
    t.equal(await s.probeStatus(user), 'good', `"${answer}" ends the check-in good`)
    t.same(s.heard(contact), [], `"${answer}": nobody alerted`)
  }
})

t.test('N: every emergency contact alerted at once with a code; the user told only what is true', async (t) => {
  const { s, ada, mary, charles } = await adaWithTwoContacts(t)
  await s.checkInTime()
  await s.advance(3)
  s.mark()
  t.same(await s.text(ada, ' n '), [ALERTING], 'the N is acknowledged at once in TwiML')
  await s.settle()

  for (const contact of [mary, charles]) {
    const alerts = s.texts(contact)
    t.equal(alerts.length, 1, `one alert to ${contact.first_name}`)
    t.equal(alerts[0]?.minute, 0, `${contact.first_name} alerted at once`)
    t.match(alerts[0]?.body, ALERT_WITH_CODE, 'the alert says how to acknowledge')
    t.match(alerts[0]?.body, /Ada/, 'names the person')
    t.match(alerts[0]?.body, ada.phone, "gives the person's number")
  }
  t.equal(s.codeFor(mary), s.codeFor(charles), 'one alarm, one code')

  const [alarm] = await s.alarmRows(ada)
  t.match(alarm, { trigger: 'said_no', status: 'open' })
  t.equal(await s.probeStatus(ada), 'bad')

  await s.advance(9)
  for (const said of s.said(ada, 0)) {
    t.notMatch(said, /help is on the way/i, 'no "help is on the way" before anyone acknowledged')
    t.notMatch(said, /\breached\b/i, 'nobody is "reached" without a receipt or an acknowledgement')
  }
  const listed = await s.alarms(ada)
  t.equal(listed.length, 1)
  t.match(listed[0], { status: 'open', trigger: 'said_no' })
})

/** Every distress phrase of the issue, and case and punctuation variants of some. */
const DISTRESS = [
  'help',
  'help me',
  'SOS',
  '911',
  'emergency',
  'not ok',
  "I'm not OK",
  'hurt',
  'I fell',
  'call 911',
  'ambulance',
  'No.',
  'HELP!',
  'Help me!!',
  'sos',
  'Not OK.',
  'i’m not ok',
  'I FELL',
  'Call 911!'
]

t.test('every distress phrase while a check-in waits raises the alarm at once, with the words quoted', async (t) => {
  const s = await startScenario(t)
  const cast: Array<{ user: ScenarioUser; contact: ScenarioContact; words: string }> = []
  for (const words of DISTRESS) {
    const user = await s.addUser(`Person${cast.length}`, 'Indistress')
    const contact = await s.addContact(user, `Helper${cast.length}`, 'Nearby')
    await s.checkIns(user)
    cast.push({ user, contact, words })
  }
  await s.checkInTime()
  await s.advance(1)
  s.mark()
  for (const { user, words } of cast) {
    t.same(await s.text(user, words), [ALERTING], `"${words}": the user is told contacts are being alerted`)
  }
  await s.settle()

  for (const { user, contact, words } of cast) {
    const alerts = s.texts(contact)
    t.equal(alerts.length, 1, `"${words}": one alert`)
    t.equal(alerts[0]?.minute, 0, `"${words}": at once, not after the follow-ups`)
    t.ok(alerts[0]?.body.includes(words.trim()), `"${words}" is quoted to the contact: ${alerts[0]?.body}`)
    t.notMatch(alerts[0]?.body ?? '', /not answered/i, `"${words}" is not reported as silence`)
    t.match(alerts[0]?.body, ALERT_WITH_CODE)
    const [alarm] = await s.alarmRows(user)
    t.match(alarm, { status: 'open', quote: words.trim() }, `"${words}": an open alarm quoting the words`)
    t.ok(['distress', 'said_no', 'panic'].includes(alarm?.trigger), `"${words}": trigger ${alarm?.trigger}`)
  }
})

t.test('panic: SOS, HELP ME and 911 raise an alarm with nothing pending', async (t) => {
  const s = await startScenario(t)
  const cast: Array<{ user: ScenarioUser; contact: ScenarioContact; words: string }> = []
  for (const words of ['SOS', 'HELP ME', '911', 'sos!']) {
    const user = await s.addUser(`Panic${cast.length}`, 'Person')
    const contact = await s.addContact(user, `Near${cast.length}`, 'Friend')
    cast.push({ user, contact, words })
  }
  await s.advance(5)
  s.mark()
  for (const { user, words } of cast) {
    const reply = await s.text(user, words)
    t.same(reply, [ALERTING], `"${words}": the user is told contacts are being alerted`)
  }
  await s.settle()
  for (const { user, contact, words } of cast) {
    const alerts = s.texts(contact)
    t.equal(alerts.length, 1, `"${words}": one alert`)
    t.equal(alerts[0]?.minute, 0, `"${words}": at once`)
    t.ok(alerts[0]?.body.includes(words), `"${words}" quoted: ${alerts[0]?.body}`)
    t.match(alerts[0]?.body, ALERT_WITH_CODE)
    const [alarm] = await s.alarmRows(user)
    t.match(alarm, { trigger: 'panic', status: 'open', quote: words })
  }
})

t.test('plain help with nothing pending lists the commands and points to SOS; nobody is alerted', async (t) => {
  const s: Scenario = await startScenario(t)
  const ada = await s.addUser('Ada', 'Lovelace')
  const mary = await s.addContact(ada, 'Mary', 'Somerville')
  const reply = await s.text(ada, 'help')
  t.equal(reply.length, 1)
  t.match(reply[0], /text SOS if you need help now/i)
  await s.advance(30)
  t.same(s.heard(mary), [], 'no alert')
  t.same(await s.alarmRows(ada), [], 'no alarm')
})
