import t from 'tap'
import { usageText } from '../../plugins/sms-commands/commands.js'
import { probeTexts } from '../../src/probes/messages.js'
import {
  alarmContacts,
  alarmsOf,
  buildScenario,
  checkIn,
  emergencyContactOf,
  probeSettingsActive,
  text,
  textsTo,
  timedTextsTo,
  timeline,
  turnCheckInsOn,
  wait
} from './harness.js'

/*
 * A check-in and its answers, as the user and two emergency contacts see them: who got
 * which text, and when (minutes on the fake clock).
 */

t.test('Y: the user is thanked and nobody else hears a thing', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  t.equal(await text(s, s.user.phone_number, 'Yes.'), probeTexts.good('Ada'))
  await wait(s, 60)
  t.same(textsTo(s, s.user.phone_number), [probeTexts.ask('Ada')])
  t.same(textsTo(s, mary.phone_number), [])
  t.same(await alarmsOf(s), [])
})

t.test('N: every contact alerted at once with a code and how to answer; the user told the truth', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  await turnCheckInsOn(s)
  await checkIn(s)
  t.equal(await text(s, s.user.phone_number, 'No.'), 'We are alerting your emergency contacts now.')
  const [alarm] = await alarmsOf(s)
  t.equal(alarm.trigger, 'said_no')
  t.equal(alarm.status, 'open')
  t.match(alarm.code, /^\d{2}$/)
  const code = alarm.code
  for (const contact of [mary, carl]) {
    t.same(timedTextsTo(s, contact.phone_number), [
      [
        0,
        `${contact.first_name}, this is Kronus, the check-in service of Ada Lovelace. Ada answered that they are NOT OK. They texted: "No.". Please contact them now: ${s.user.phone_number}. Reply OK ${code} if you will check on Ada, or SAFE ${code} if Ada is safe.`
      ]
    ])
  }
  t.same(
    textsTo(s, s.user.phone_number),
    [
      probeTexts.ask('Ada'),
      'Your alert was sent to Mary Contact and Carl Contact (no delivery receipt yet). Nobody has confirmed they are coming yet; Kronus will tell you when someone does.'
    ],
    'never "help is on the way" before anyone acknowledged; "sent to", not "reached", without a receipt'
  )
  t.ok(await probeSettingsActive(s), 'check-ins are not turned off by an alarm')
  const triggered = await s.kronus.events.list({ type: 'emergency.triggered' })
  t.equal(triggered.length, 1, 'emergency.triggered is still recorded')
  const alerted = await s.kronus.events.list({ type: 'emergency-contact.alerted' })
  t.same(alerted[0]?.payload.contactIds, [mary.id, carl.id], 'the plugin keeps its history event')
  t.same(
    (await alarmContacts(s, alarm.id)).map((c) => [c.name, c.state]),
    [
      ['Mary Contact', 'sent'],
      ['Carl Contact', 'sent']
    ]
  )
  t.same((await timeline(s, alarm.id)).slice(0, 4), ['raised', 'alerted', 'alerted', 'sent'])
})

const DISTRESS = [
  'help',
  'Help!',
  'help me',
  'SOS',
  '911',
  'emergency',
  'not ok',
  "I'm not OK",
  'im not ok',
  'hurt',
  'fell',
  'I fell',
  'ambulance',
  'call 911',
  'No.',
  'nope'
]

t.test('distress in words while a check-in waits is an alarm at once, the words quoted', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  for (const words of DISTRESS) {
    await checkIn(s)
    const before = textsTo(s, mary.phone_number).length
    t.equal(await text(s, s.user.phone_number, words), 'We are alerting your emergency contacts now.', words)
    const alarm = (await alarmsOf(s)).at(-1)
    const plainNo = words === 'No.' || words === 'nope'
    t.equal(alarm.trigger, plainNo ? 'said_no' : 'distress', words)
    const alert = textsTo(s, mary.phone_number).slice(before)
    t.equal(alert.length, 1, `${words}: one alert, at once`)
    if (!plainNo) t.match(alert[0], `They texted: "${words}"`, `${words}: the words are quoted`)
    t.match(alert[0], `Reply OK ${alarm.code} if you will check on Ada`)
    // The user's OK clears it, so the next phrase starts afresh.
    t.match(await text(s, s.user.phone_number, 'ok'), /^Glad you are OK/)
  }
})

t.test('silence: the follow-ups, then the contacts are told Ada has not answered', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s, s.user, 1)
  await wait(s, 20)
  t.same(timedTextsTo(s, s.user.phone_number).slice(0, 2), [
    [0, probeTexts.ask('Ada')],
    [10, probeTexts.followUp('Ada')]
  ])
  const [alarm] = await alarmsOf(s)
  t.equal(alarm.trigger, 'no_answer')
  const alerts = timedTextsTo(s, mary.phone_number)
  t.equal(alerts[0]![0], 20, 'alerted when the last follow-up went unanswered')
  t.match(alerts[0]![1], 'Ada has not answered their check-ins. Please make sure they are OK')
})

t.test('garbage then silence: a hint, then the same alarm as silence', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s, s.user, 1)
  t.equal(await text(s, s.user.phone_number, 'what is this'), probeTexts.notUnderstood())
  await wait(s, 20)
  t.equal((await alarmsOf(s))[0].trigger, 'no_answer')
  t.equal(textsTo(s, mary.phone_number).length, 1)
})

t.test('SOS, HELP ME or 911 with nothing pending raise a panic alarm; plain help lists the commands', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const help = await text(s, s.user.phone_number, 'help')
  t.equal(help, usageText())
  t.match(help, 'Text SOS if you need help now')
  t.same(await alarmsOf(s), [], 'plain help with nothing pending is no alarm')

  t.equal(await text(s, s.user.phone_number, 'SOS'), 'We are alerting your emergency contacts now.')
  const [alarm] = await alarmsOf(s)
  t.equal(alarm.trigger, 'panic')
  t.equal(alarm.probe_id, null)
  t.match(textsTo(s, mary.phone_number)[0], 'Ada sent an emergency text. They texted: "SOS".')
  t.match(
    await text(s, s.user.phone_number, 'HELP ME'),
    /^Your emergency contacts have been alerted/,
    'a second panic joins the open alarm'
  )
  t.equal((await alarmsOf(s)).length, 1)
})

t.test('a user with no emergency contact is told to call the local emergency number', async (t) => {
  const s = await buildScenario(t)
  await checkIn(s)
  t.equal(
    await text(s, s.user.phone_number, 'N'),
    'You have no emergency contact, so Kronus could not alert anyone. If you need help now, call your local emergency number. Reply OK when you are safe.'
  )
  t.same(textsTo(s, s.user.phone_number), [probeTexts.ask('Ada')], 'said once, in the reply')
  t.equal((await s.kronus.events.list({ type: 'emergency-contact.unreachable' })).length, 1)
})
