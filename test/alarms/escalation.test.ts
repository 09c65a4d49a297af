import t from 'tap'
import { probeTexts } from '../../src/probes/messages.js'
import { createContact, createUser } from '../helpers/http.js'
import { gate } from '../queue/helpers.js'
import {
  alarmContacts,
  alarmsOf,
  buildScenario,
  checkIn,
  emergencyContactOf,
  receipt,
  setEscalation,
  text,
  textsTo,
  timedTextsTo,
  timeline,
  turnCheckInsOn,
  wait
} from './harness.js'

/* Escalation until someone acknowledges, and the all-clear: who hears what, and when. */

t.test('late Y after an alarm: all-clear to every contact, check-ins back on their schedule', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  // Daily at 18:00; the clock starts at 12:00 UTC.
  await turnCheckInsOn(s)
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  await wait(s, 5)
  const reply = await text(s, s.user.phone_number, 'Y')
  t.equal(
    reply,
    'Glad you are OK. Kronus told your emergency contacts that all is well. Your check-ins are back on.',
    'a late Y is the all-clear, not "no check-in waiting"'
  )
  const [resolved] = await alarmsOf(s)
  t.equal(resolved.status, 'resolved')
  t.equal(resolved.resolved_reason, 'user_ok')
  t.equal(resolved.open_code, null, 'the code is free again')
  for (const contact of [mary, carl]) {
    const texts = timedTextsTo(s, contact.phone_number)
    t.same(texts.at(-1), [
      5,
      `${contact.first_name}, all clear: Ada answered that they are OK (12:05 on 5 Jan). The alarm for Ada Lovelace is over. Thank you.`
    ])
  }
  t.same(await timeline(s, alarm.id).then((k) => k.at(-1)), 'resolved')
  // The 18:00 check-in comes as scheduled.
  const before = textsTo(s, s.user.phone_number).length
  s.kronus.clock.set('2026-01-05T18:00:00Z')
  await wait(s, 1)
  t.same(textsTo(s, s.user.phone_number).slice(before), [probeTexts.ask('Ada')])
})

t.test('check-ins wait while an alarm is open', async (t) => {
  const s = await buildScenario(t)
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  await text(s, s.user.phone_number, 'SOS')
  const before = textsTo(s, s.user.phone_number).length
  s.kronus.clock.set('2026-01-05T18:00:00Z')
  await wait(s, 1)
  t.same(
    textsTo(s, s.user.phone_number)
      .slice(before)
      .filter((m) => m === probeTexts.ask('Ada')),
    [],
    'no check-in on top of an open alarm'
  )
})

t.test('two contacts, one acknowledges: she is thanked, the other told, the user told who is coming', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  await checkIn(s)
  await text(s, s.user.phone_number, 'help')
  const [alarm] = await alarmsOf(s)
  await wait(s, 3)
  const confirmation = await text(s, mary.phone_number, ` ok  ${alarm.code} `)
  t.equal(
    confirmation,
    `Thank you Mary. Ada and the other contacts know you are checking on them. Reply SAFE ${alarm.code} once Ada is safe.`
  )
  t.same(timedTextsTo(s, carl.phone_number).at(-1), [
    3,
    `Carl, Mary Contact is checking on Ada Lovelace. Reply SAFE ${alarm.code} if Ada is safe.`
  ])
  t.same(timedTextsTo(s, s.user.phone_number).at(-1), [
    3,
    'Help is on the way: Mary Contact has confirmed they are checking on you. If you need help now, call your local emergency number.'
  ])
  const [acked] = await alarmsOf(s)
  t.equal(acked.status, 'acknowledged')
  const counts = [mary, carl].map((c) => textsTo(s, c.phone_number).length)
  await wait(s, 60)
  t.same(
    [mary, carl].map((c) => textsTo(s, c.phone_number).length),
    counts,
    'escalation stopped: no reminders after the acknowledgement'
  )
  // Mary finds Ada safe.
  t.match(await text(s, mary.phone_number, `SAFE ${alarm.code}`), /the alarm is over/)
  t.match(textsTo(s, carl.phone_number).at(-1), 'all clear: Mary Contact says Ada is safe')
  t.match(textsTo(s, s.user.phone_number).at(-1), /^Mary Contact told Kronus you are safe/)
  const [resolved] = await alarmsOf(s)
  t.equal(resolved.resolved_reason, 'contact_safe')
  t.equal(resolved.resolved_by, 'Mary Contact')
  const events = await s.kronus.events.list({ type: 'alarm.acknowledged' })
  t.same(
    events.map((e) => [e.payload.name, e.payload.via]),
    [['Mary Contact', 'sms']]
  )
})

t.test('a plain OK acknowledges when the contact has exactly one open alarm', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  t.match(await text(s, mary.phone_number, 'on my way'), /^Thank you Mary/)
  t.equal((await alarmsOf(s))[0].status, 'acknowledged')
})

t.test(
  'nobody acknowledges: reminders each step, then everyone told nobody confirmed; the alarm stays open',
  async (t) => {
    const s = await buildScenario(t)
    const mary = await emergencyContactOf(s, 'Mary')
    const carl = await emergencyContactOf(s, 'Carl')
    await checkIn(s)
    await text(s, s.user.phone_number, 'N')
    const [alarm] = await alarmsOf(s)
    await wait(s, 60)
    for (const contact of [mary, carl]) {
      const texts = timedTextsTo(s, contact.phone_number)
      t.same(
        texts.map(([minute]) => minute),
        [0, 10, 20, 30, 40],
        `${contact.first_name}: the alert, 3 reminders 10 minutes apart, then the end`
      )
      t.match(texts[1]![1], `${contact.first_name}, nobody has yet confirmed they are checking on Ada Lovelace`)
      t.match(texts[4]![1], 'nobody has confirmed they are checking on Ada Lovelace')
      t.match(texts[4]![1], `Reply OK ${alarm.code}`)
    }
    t.same(timedTextsTo(s, s.user.phone_number).at(-1), [
      40,
      'None of your emergency contacts has confirmed they are coming. Kronus has stopped reminding them, but the alarm stays open. If you need help now, call your local emergency number. Reply OK when you are safe.'
    ])
    const [exhausted] = await alarmsOf(s)
    t.equal(exhausted.status, 'open')
    t.ok(exhausted.exhausted_at)
    const escalated = await s.kronus.events.list({ type: 'alarm.escalated' })
    t.same(
      escalated.map((e) => e.payload.action),
      ['reminder', 'reminder', 'reminder', 'exhausted']
    )
    // Still answerable after the end.
    t.match(await text(s, carl.phone_number, `OK ${alarm.code}`), /^Thank you Carl/)
  }
)

t.test('ordered escalation: one contact at a time, the earlier ones stay on the alarm', async (t) => {
  const s = await buildScenario(t)
  await setEscalation(s, { mode: 'ordered', step_minutes: 5, repeats: 1 })
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  const zoe = await emergencyContactOf(s, 'Zoe')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  await wait(s, 30)
  t.same(
    timedTextsTo(s, mary.phone_number).map(([m]) => m),
    [0, 15, 20],
    'Mary: alerted first, reminded, told the end'
  )
  t.same(
    timedTextsTo(s, carl.phone_number).map(([m]) => m),
    [5, 15, 20],
    'Carl added after one step'
  )
  t.same(
    timedTextsTo(s, zoe.phone_number).map(([m]) => m),
    [10, 15, 20],
    'Zoe after two'
  )
  const escalated = await s.kronus.events.list({ type: 'alarm.escalated' })
  t.same(
    escalated.map((e) => e.payload.action),
    ['next_contact', 'next_contact', 'reminder', 'exhausted']
  )
})

/** An ordered escalation whose first contact, Mary, was alerted 2 minutes ago; Carl is next. */
async function maryAlertedFirst(t: Parameters<typeof buildScenario>[0]) {
  const s = await buildScenario(t)
  await setEscalation(s, { mode: 'ordered', step_minutes: 10, repeats: 0 })
  const mary = await emergencyContactOf(s, 'Mary')
  const carl = await emergencyContactOf(s, 'Carl')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  const [maryRow] = await alarmContacts(s, alarm.id)
  await wait(s, 2)
  // Twilio's receipt: Mary's alert never reached her phone.
  const maryUndelivered = {
    to: mary.phone_number,
    userId: s.user.id,
    channel: 'twilio',
    messageId: 'SM1',
    ref: `alarm-contact:${maryRow.id}`,
    status: 'undelivered',
    errorCode: 30003,
    error: 'Unreachable destination handset'
  } as const
  return { s, carl, alarm, maryUndelivered }
}

t.test('an undelivered alert moves the step on at once (ordered: the next contact now)', async (t) => {
  const { s, carl, alarm, maryUndelivered } = await maryAlertedFirst(t)
  t.same(textsTo(s, carl.phone_number), [])
  await receipt(s, 'message.undelivered', maryUndelivered)
  t.same(
    timedTextsTo(s, carl.phone_number).map(([m]) => m),
    [2],
    'Carl is alerted the moment Mary\u2019s alert is known undelivered'
  )
  const rows = await alarmContacts(s, alarm.id)
  t.same(
    rows.map((r) => [r.name, r.state, r.error_code]),
    [
      ['Mary Contact', 'undelivered', 30003],
      ['Carl Contact', 'sent', null]
    ]
  )
  // A receipt for Carl: "reached" in the report to the user.
  await receipt(s, 'message.delivered', {
    to: carl.phone_number,
    userId: s.user.id,
    channel: 'twilio',
    messageId: 'SM2',
    ref: `alarm-contact:${rows[1].id}`
  })
  t.equal((await alarmContacts(s, alarm.id))[1].state, 'delivered')
})

t.test(
  "an undelivered alert moves on at once while another subscriber's backlog holds every shared slot",
  async (t) => {
    const { s, carl, alarm, maryUndelivered } = await maryAlertedFirst(t)
    // A plugin's durable subscriber whose handler hangs (the service it calls no longer
    // answers), with deliveries for 150 users waiting: more than a batch. Deliveries of all
    // subscribers share one job name, so its backlog stands in line with the alarm's.
    const hung = gate()
    const hanging = gate()
    t.teardown(() => hung.open())
    s.kronus.events.subscribe('slow-audit', 'user.updated', async () => {
      hanging.open()
      await hung.promise
    })
    await s.kronus.knex.transaction((trx) =>
      s.kronus.events.recordMany(
        trx,
        'user.updated',
        Array.from({ length: 150 }, (_, i) => ({ userId: 10_000 + i, fields: ['name'] }))
      )
    )
    const backlog = s.kronus.queue.runDue()
    await hanging.promise
    await s.kronus.events.emit('message.undelivered', maryUndelivered)
    // The receipt's delivery, then Carl's alert: each in an urgent slot, the shared one still held.
    for (let pass = 0; pass < 3; pass++) await s.kronus.queue.runDue()
    t.equal(textsTo(s, carl.phone_number).length, 1, 'Carl is alerted while the backlog still hangs')
    t.same(
      (await alarmContacts(s, alarm.id)).map((r) => [r.name, r.state]),
      [
        ['Mary Contact', 'undelivered'],
        ['Carl Contact', 'sent']
      ]
    )
    const waiting = await s.kronus.knex('jobs').where({ name: 'events.deliver', status: 'enqueued' }).count({ n: '*' })
    t.equal(Number(waiting[0]!.n), 50, "the rest of the backlog still waits: the alarm's delivery went ahead of it")
    hung.open()
    await backlog
    await s.kronus.queue.drain()
  }
)

t.test('every alert undelivered: the user is told nobody could be reached', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  const [row] = await alarmContacts(s, alarm.id)
  await receipt(s, 'message.undelivered', {
    to: mary.phone_number,
    userId: s.user.id,
    channel: 'twilio',
    messageId: 'SM1',
    ref: `alarm-contact:${row.id}`,
    status: 'failed',
    errorCode: 30005,
    error: 'Unknown destination handset'
  })
  t.equal(
    textsTo(s, s.user.phone_number).at(-1),
    'Kronus could not reach any of your emergency contacts (Mary Contact). If you need help now, call your local emergency number. Reply OK when you are safe.'
  )
})

t.test('voice calls: an unacknowledged contact is called each step; pressing 1 acknowledges', async (t) => {
  const s = await buildScenario(t)
  await setEscalation(s, { mode: 'all', step_minutes: 10, repeats: 3, voice_calls: true })
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  await wait(s, 10)
  t.same(
    s.channel.calls.map((c) => [c.to, c.minute, c.prompt]),
    [[mary.phone_number, 10, 'Press 1 if you will check on Ada.']]
  )
  const [row] = await alarmContacts(s, alarm.id)
  t.equal(row.state, 'called')
  const said = await s.kronus.messaging.callAnswered({
    channel: 'scenario',
    to: mary.phone_number,
    callId: 'CA1',
    ref: s.channel.calls[0]!.ref,
    digits: '1'
  })
  await wait(s, 1)
  t.match(said, /^Thank you/)
  t.equal((await alarmsOf(s))[0].status, 'acknowledged')
  t.match(textsTo(s, s.user.phone_number).at(-1), /^Help is on the way: Mary Contact/)
  const events = await s.kronus.events.list({ type: 'alarm.acknowledged' })
  t.equal(events[0]?.payload.via, 'call')
})

t.test('a contact who is also a user, with her own check-in waiting, answers OK <code>', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  // Mary is a Kronus user too, on the same phone, with a check-in of her own waiting.
  const maryUser = await createUser(s.kronus, s.admin, {
    first_name: 'Mary',
    last_name: 'Contact',
    phone_number: mary.phone_number
  })
  await checkIn(s)
  await checkIn(s, maryUser)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  t.match(await text(s, mary.phone_number, `OK ${alarm.code}`), /^Thank you Mary/)
  t.equal((await alarmsOf(s))[0].status, 'acknowledged', 'the code made it an answer to the alarm')
  t.ok(await s.kronus.probes.pendingProbe(maryUser.id), 'her own check-in still waits')
  t.same(await alarmsOf(s, maryUser.id), [], 'and raised nothing of hers')
  // A plain OK from her is her own check-in's answer.
  t.equal(await text(s, mary.phone_number, 'OK'), probeTexts.good('Mary'))
  t.notOk(await s.kronus.probes.pendingProbe(maryUser.id))
})

t.test('voice calls: an undelivered alert gets a call at once, not a step later', async (t) => {
  const s = await buildScenario(t)
  await setEscalation(s, { voice_calls: true })
  const mary = await emergencyContactOf(s, 'Mary')
  await checkIn(s)
  await text(s, s.user.phone_number, 'N')
  const [alarm] = await alarmsOf(s)
  const [row] = await alarmContacts(s, alarm.id)
  await wait(s, 2)
  t.same(s.channel.calls, [])
  await receipt(s, 'message.failed', {
    to: mary.phone_number,
    text: 'the alert',
    userId: s.user.id,
    channel: 'twilio',
    error: 'Twilio rejected the message (HTTP 400 code 21610)',
    permanent: true,
    ref: `alarm-contact:${row.id}`
  })
  t.same(
    s.channel.calls.map((c) => [c.to, c.minute, c.ref]),
    [[mary.phone_number, 2, `alarm-contact:${row.id}`]]
  )
  t.match(s.channel.calls[0]!.say, 'Hello Mary, this is Kronus, the check-in service of Ada Lovelace.')
  t.equal((await alarmContacts(s, alarm.id))[0].state, 'called')
  t.same(
    (await timeline(s, alarm.id)).filter((k) => ['undelivered', 'called'].includes(k)),
    ['undelivered', 'called']
  )
})

t.test('a contact on two alarms: a plain OK asks which; OK <code> picks one; a wrong code is said so', async (t) => {
  const s = await buildScenario(t)
  const mary = await emergencyContactOf(s, 'Mary')
  const bob = await createUser(s.kronus, s.admin, { first_name: 'Bob', last_name: 'Other' })
  await createContact(s.kronus, bob, {
    first_name: 'Mary',
    last_name: 'Contact',
    phone_number: mary.phone_number,
    is_emergency_contact: true
  })
  await text(s, s.user.phone_number, 'SOS')
  await text(s, bob.phone_number, 'SOS')
  const [ada] = await alarmsOf(s)
  const [bobs] = await alarmsOf(s, bob.id)
  const which = await text(s, mary.phone_number, 'ok')
  t.match(which, /^You are a contact on more than one alarm/)
  t.match(which, `OK ${ada.code}`)
  t.match(which, `OK ${bobs.code}`)
  t.equal((await alarmsOf(s))[0].status, 'open', 'nothing acknowledged by a guess')
  const wrong = ada.code === '99' ? '98' : '99'
  if (wrong !== bobs.code)
    t.equal(
      await text(s, mary.phone_number, `OK ${wrong}`),
      `No open alarm with the code ${wrong} is waiting for your answer.`
    )
  t.match(await text(s, mary.phone_number, `OK ${bobs.code}`), /^Thank you Mary/)
  t.equal((await alarmsOf(s, bob.id))[0].status, 'acknowledged')
  t.equal((await alarmsOf(s))[0].status, 'open')
})
