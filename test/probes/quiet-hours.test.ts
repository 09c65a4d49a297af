import t from 'tap'
import { FakeClock } from '../../src/clock.js'
import { probeTexts } from '../../src/probes/messages.js'
import { buildProbeKronus, type ProbeHarness, probedUser, textsTo, turnProbesOn } from './harness.js'

const at = (iso: string) => Date.parse(iso)

/**
 * Runs the scheduler and the queue every `stepMinutes` until `untilIso`, as a running
 * Kronus would; with `answer`, the user answers Y to each check-in (an unanswered one
 * raises an alarm, and check-ins wait while it is open).
 */
async function runUntil(h: ProbeHarness, untilIso: string, stepMinutes = 5, answer?: number): Promise<void> {
  while (h.kronus.clock.now() < at(untilIso)) {
    h.kronus.clock.advanceMinutes(stepMinutes)
    await h.kronus.scheduler.tick()
    await h.kronus.queue.drain()
    if (answer !== undefined && (await h.probes.pendingProbe(answer)))
      await h.probes.handleReply({ userId: answer, text: 'Y' })
  }
}

/** The fire time each scheduled probe of the user was started for (its start key), as ISO times. */
async function startTimes(h: ProbeHarness, userId: number): Promise<string[]> {
  const rows = await h.kronus.knex('probes').where({ user_id: userId }).orderBy('id')
  return rows.map((r: any) => new Date(Number(String(r.start_key).split(':')[2])).toISOString())
}

/** When each follow-up of the user's probes was sent, as ISO times. */
async function followUpTimes(h: ProbeHarness, userId: number): Promise<string[]> {
  const rows = await h.kronus.knex('events').where({ type: 'probe.follow_up_sent', user_id: userId }).orderBy('id')
  return rows.map((r: any) => new Date(Number(r.created_at)).toISOString())
}

t.test('a scheduled check-in inside quiet hours is sent when they end, once', async (t) => {
  const h = await buildProbeKronus(t) // 2026-01-05 12:00 UTC
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 23 * * *', quiet_hours: { start: '22:00', end: '07:00' } })
  await runUntil(h, '2026-01-06T06:55:00Z')
  t.same(await startTimes(h, user.id), [], 'nothing at 23:00')
  await runUntil(h, '2026-01-06T07:30:00Z')
  t.same(await startTimes(h, user.id), ['2026-01-06T07:00:00.000Z'], 'asked at the end of the quiet hours')
  t.same(textsTo(h, user.phone_number), [probeTexts.ask(user.record.first_name)])
})

t.test(
  'an hourly schedule sends nothing in quiet hours that cross midnight, and one check-in at their end',
  async (t) => {
    const h = await buildProbeKronus(t)
    const { user } = await probedUser(h)
    await turnProbesOn(h, user, {
      cron_expression: '0 * * * *',
      time_zone: 'America/Toronto', // 22:00 EST is 03:00Z, 07:00 EST is 12:00Z
      quiet_hours: { start: '22:00', end: '07:00' },
      max_retries: 0,
      wait_time_in_minutes: 30
    })
    h.kronus.clock.set('2026-01-06T01:58:00Z') // 20:58 in Toronto
    await runUntil(h, '2026-01-06T13:30:00Z', 5, user.id)
    t.same(
      await startTimes(h, user.id),
      ['2026-01-06T02:00:00.000Z', '2026-01-06T12:00:00.000Z', '2026-01-06T13:00:00.000Z'],
      '21:00, then nothing from 22:00 to 06:00, then 07:00 once (not 9 check-ins), then 08:00'
    )
  }
)

t.test('a follow-up due inside quiet hours waits: the rest of the wait is served after them', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, {
    cron_expression: '50 21 * * *',
    quiet_hours: { start: '22:00', end: '07:00' },
    max_retries: 1,
    wait_time_in_minutes: 15
  })
  await runUntil(h, '2026-01-06T07:04:00Z', 1)
  t.same(await startTimes(h, user.id), ['2026-01-05T21:50:00.000Z'])
  t.same(await followUpTimes(h, user.id), [], 'no follow-up at 22:05')
  await runUntil(h, '2026-01-06T07:06:00Z', 1)
  t.same(await followUpTimes(h, user.id), ['2026-01-06T07:05:00.000Z'], '07:00 and the 5 minutes left of the wait')
  t.same(textsTo(h, user.phone_number), [
    probeTexts.ask(user.record.first_name),
    probeTexts.followUp(user.record.first_name)
  ])
})

t.test('quiet hours across the spring and autumn DST changes end at 07:00 local time', async (t) => {
  const h = await buildProbeKronus(t, { clock: new FakeClock('2026-03-27T12:00:00Z') })
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, {
    cron_expression: '30 1 * * *', // inside the quiet hours every night
    time_zone: 'Europe/London',
    quiet_hours: { start: '22:00', end: '07:00' },
    max_retries: 0,
    wait_time_in_minutes: 10
  })
  await runUntil(h, '2026-03-31T12:00:00Z', 10, user.id)
  t.same(
    await startTimes(h, user.id),
    [
      '2026-03-28T07:00:00.000Z', // 07:00 GMT
      '2026-03-29T06:00:00.000Z', // the clocks went forward at 01:00: 07:00 BST
      '2026-03-30T06:00:00.000Z',
      '2026-03-31T06:00:00.000Z'
    ],
    'spring forward'
  )
  h.kronus.clock.set('2026-10-23T12:00:00Z')
  await h.kronus
    .knex('probe_settings')
    .where({ user_id: user.id })
    .update({ next_fire_at: at('2026-10-24T00:30:00Z') })
  await runUntil(h, '2026-10-26T12:00:00Z', 10, user.id)
  t.same(
    (await startTimes(h, user.id)).slice(4),
    [
      '2026-10-24T06:00:00.000Z', // 07:00 BST
      '2026-10-25T07:00:00.000Z', // the clocks went back at 02:00: 07:00 GMT
      '2026-10-26T07:00:00.000Z'
    ],
    'fall back'
  )
})

t.test('an alarm is never held by quiet hours', async (t) => {
  const h = await buildProbeKronus(t, { clock: new FakeClock('2026-01-05T23:00:00Z') })
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { quiet_hours: { start: '22:00', end: '07:00' } })
  const before = h.channel.sent.length
  await h.kronus.messaging.receive({ from: user.phone_number, text: 'SOS', channel: 'sms', messageId: null })
  await h.kronus.queue.drain()
  t.ok(
    h.channel.sent.slice(before).some((m) => m.to !== user.phone_number),
    'the emergency contact is texted at 23:00'
  )
})
