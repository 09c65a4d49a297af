import t from 'tap'
import { smsCommands } from '../../plugins/sms-commands/index.js'
import { FakeClock } from '../../src/clock.js'
import { pauseTexts } from '../../src/probes/pause.js'
import { call, type TestUser } from '../helpers/http.js'
import {
  buildProbeKronus,
  eventsOf,
  fireProbe,
  type ProbeHarness,
  probedUser,
  probesOf,
  textsTo,
  turnProbesOn
} from './harness.js'

const at = (iso: string) => Date.parse(iso)

/** Runs the scheduler and the queue until `untilIso`; every check-in is answered Y (an unanswered one would raise an alarm). */
async function runUntil(h: ProbeHarness, untilIso: string, stepMinutes = 30): Promise<void> {
  while (h.kronus.clock.now() < at(untilIso)) {
    h.kronus.clock.advanceMinutes(stepMinutes)
    await h.kronus.scheduler.tick()
    await h.kronus.queue.drain()
    for (const probe of await h.kronus.knex('probes').whereNotNull('pending_user_id'))
      await h.probes.handleReply({ userId: Number(probe.user_id), text: 'Y' })
  }
}

async function putSettings(h: ProbeHarness, user: TestUser, payload: Record<string, unknown>) {
  return call(h.kronus, { method: 'PUT', url: `/v1/users/${user.id}/probe_settings`, token: user.token, payload })
}

async function scheduledStarts(h: ProbeHarness, userId: number): Promise<string[]> {
  const rows = await h.kronus.knex('probes').where({ user_id: userId, origin: 'scheduled' }).orderBy('id')
  return rows.map((r: any) => new Date(Number(String(r.start_key).split(':')[2])).toISOString())
}

function contactTexts(h: ProbeHarness, user: TestUser): string[] {
  return h.channel.sent.filter((m) => m.to !== user.phone_number).map((m) => m.text)
}

t.test('a pause by REST: no check-ins until it ends, then the user is told when they resume', async (t) => {
  const h = await buildProbeKronus(t) // Mon 2026-01-05 12:00 UTC
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *' })
  await fireProbe(h, user.id) // a check-in waits when the pause starts
  const res = await putSettings(h, user, { paused_until: '2026-01-08T12:00:00Z' })
  t.equal(res.statusCode, 200)
  t.equal(res.body.data.paused_until, '2026-01-08T12:00:00.000Z')
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'cancelled' }], 'the waiting check-in is cancelled')
  t.same(await eventsOf(h, user.id, 'probe_settings.paused'), [
    { userId: user.id, pausedUntil: at('2026-01-08T12:00:00Z'), contactsTold: false }
  ])
  t.same(contactTexts(h, user), [], 'a pause of 3 days is not told to the contacts')

  await runUntil(h, '2026-01-09T20:00:00Z')
  t.same(await scheduledStarts(h, user.id), [
    '2026-01-05T12:00:00.000Z', // the one cancelled
    '2026-01-08T18:00:00.000Z',
    '2026-01-09T18:00:00.000Z'
  ])
  t.ok(textsTo(h, user.phone_number).includes(pauseTexts.ended('today at 18:00', true)), 'told at 12:00 on the 8th')
  t.same(await eventsOf(h, user.id, 'probe_settings.resumed'), [{ userId: user.id, reason: 'ended' }])
  const settings = await putSettings(h, user, { max_retries: 2 })
  t.equal(settings.body.data.paused_until, null, 'no longer paused')
})

t.test('a pause over 7 days is told to the emergency contacts; ending it early tells nobody later', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *' })
  const res = await putSettings(h, user, { paused_until: '2026-01-20T00:00:00Z' })
  t.equal(res.statusCode, 200)
  await h.kronus.queue.drain()
  t.same(contactTexts(h, user), [
    pauseTexts.toContact(`${user.record.first_name} ${user.record.last_name}`, 'Tue 20 Jan 2026 at 00:00 (UTC)')
  ])
  t.match(
    pauseTexts.toContact('Ann Lee', 'x'),
    /^Ann Lee paused their Kronus check-ins until x; you will not be alerted/
  )
  h.kronus.clock.set('2026-01-06T09:00:00Z')
  const resumed = await putSettings(h, user, { paused_until: null })
  t.equal(resumed.body.data.paused_until, null)
  t.same(await eventsOf(h, user.id, 'probe_settings.resumed'), [{ userId: user.id, reason: 'resumed' }])
  await runUntil(h, '2026-01-06T19:00:00Z')
  t.same(await scheduledStarts(h, user.id), ['2026-01-06T18:00:00.000Z'], 'check-ins went on from the 6th')
  h.kronus.clock.set('2026-01-21T00:00:00Z')
  await h.kronus.queue.drain()
  t.notOk(
    textsTo(h, user.phone_number).some((text) => text.startsWith('Your Kronus pause is over')),
    'the ended pause sends no text at its old end'
  )
})

t.test('paused_until must be in the future and at most 365 days ahead', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  for (const value of ['2026-01-05T11:00:00Z', '2027-01-06T12:00:00Z', 'tomorrow', '2026-01-10', 5]) {
    const res = await putSettings(h, user, { paused_until: value })
    t.equal(res.statusCode, 400, String(value))
    t.match(res.body.errors[0], /paused_until/)
  }
})

t.test('a pause by SMS across the spring DST change ends at local midnight of that date', async (t) => {
  const h = await buildProbeKronus(t, {
    clock: new FakeClock('2026-03-27T12:00:00Z'),
    config: { plugins: [smsCommands()] }
  })
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *', time_zone: 'Europe/London' })
  const text = (body: string) =>
    h.kronus.messaging
      .receive({ from: user.phone_number, text: body, channel: 'sms', messageId: null })
      .then((r) => r.reply)
  t.equal(
    await text('pause until 2026-03-30'),
    'Check-ins paused until Mon 30 Mar 2026 at 00:00. Next check-in: on Mon 30 Mar 2026 at 18:00. ' +
      'Text RESUME to end the pause sooner.'
  )
  // 00:00 BST on the 30th is 23:00 UTC on the 29th: the clocks went forward in between.
  t.same(await eventsOf(h, user.id, 'probe_settings.paused'), [
    { userId: user.id, pausedUntil: at('2026-03-29T23:00:00Z'), contactsTold: false }
  ])
  await runUntil(h, '2026-03-30T18:00:00Z')
  t.same(await scheduledStarts(h, user.id), ['2026-03-30T17:00:00.000Z'], '18:00 BST on the 30th, nothing before')
  t.ok(textsTo(h, user.phone_number).includes(pauseTexts.ended('today at 18:00', true)))
})

t.test('pause and resume by SMS: every reply says what is true and when the next check-in is', async (t) => {
  const h = await buildProbeKronus(t, { config: { plugins: [smsCommands()] } })
  const { user } = await probedUser(h)
  const text = (body: string) =>
    h.kronus.messaging
      .receive({ from: user.phone_number, text: body, channel: 'sms', messageId: null })
      .then((r) => r.reply)
  t.equal(await text('pause 3d'), 'Your check-ins are off, so there is nothing to pause. Text ON to turn them back on.')
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *' })
  t.equal(
    await text('PAUSE 2d'),
    'Check-ins paused until Wed 7 Jan 2026 at 12:00. Next check-in: on Wed 7 Jan 2026 at 18:00. ' +
      'Text RESUME to end the pause sooner.'
  )
  t.equal(
    await text('pause 12h'),
    'Check-ins paused until Tue 6 Jan 2026 at 00:00. Next check-in: tomorrow at 18:00. Text RESUME to end the pause sooner.',
    'a new pause replaces the old'
  )
  t.equal(
    await text('pause until 2026-01-01'),
    'Kronus can pause until a date after today and at most a year ahead. Text "pause --help" for more.'
  )
  t.equal(await text('resume'), 'Your pause is over: check-ins are on. Next check-in: today at 18:00.')
  t.equal(await text('resume'), 'Your check-ins are already on. Next check-in: today at 18:00.')
  t.same(
    (await eventsOf(h, user.id, 'probe_settings.resumed')).map((e) => e.reason),
    ['resumed'],
    'one pause ended early; the replaced one ended nothing'
  )
  await h.kronus.queue.drain()
  h.kronus.clock.advanceMinutes(13 * 60)
  await h.kronus.queue.drain()
  t.notOk(
    textsTo(h, user.phone_number).some((m) => m.startsWith('Your Kronus pause is over')),
    'the replaced and the ended pause send no end text'
  )
})

t.test('`on` turns check-ins back on after they were turned off', async (t) => {
  const h = await buildProbeKronus(t, { config: { plugins: [smsCommands()] } })
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *' })
  await putSettings(h, user, { active: false })
  const reply = await h.kronus.messaging.receive({
    from: user.phone_number,
    text: 'On',
    channel: 'sms',
    messageId: null
  })
  t.equal(reply.reply, 'Your check-ins are back on. Next check-in: today at 18:00.')
  t.equal(Boolean((await h.kronus.knex('probe_settings').where({ user_id: user.id }).first()).active), true)
})

t.test('the text that check-ins resume waits for the end of the quiet hours', async (t) => {
  const h = await buildProbeKronus(t)
  const { user } = await probedUser(h)
  await turnProbesOn(h, user, { cron_expression: '0 18 * * *', quiet_hours: { start: '22:00', end: '07:00' } })
  t.equal((await putSettings(h, user, { paused_until: '2026-01-08T00:00:00Z' })).statusCode, 200)
  h.kronus.clock.set('2026-01-08T06:59:00Z')
  await h.kronus.queue.drain()
  t.notOk(
    textsTo(h, user.phone_number).some((m) => m.startsWith('Your Kronus pause is over')),
    'not at midnight'
  )
  h.kronus.clock.set('2026-01-08T07:00:00Z')
  await h.kronus.queue.drain()
  t.ok(textsTo(h, user.phone_number).includes(pauseTexts.ended('today at 18:00', true)), 'at 07:00')
})
