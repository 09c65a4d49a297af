import t, { type Test } from 'tap'
import { probeTexts } from '../../src/probes/messages.js'
import { changeProbeStatus } from '../../src/probes/status-change.js'
import type { TestUser } from '../helpers/http.js'
import { call } from '../helpers/http.js'
import {
  advance,
  anotherProbedUser,
  buildProbeKronus,
  eventsOf,
  eventTypesOf,
  fireProbe,
  flipsOf,
  type ProbeHarness,
  probedUser,
  probesOf,
  textsTo,
  turnProbesOn
} from './harness.js'

const MINUTE = 60_000

async function setUp(
  t: Test,
  settings: { max_retries: number; wait_time_in_minutes: number }
): Promise<{ h: ProbeHarness; user: TestUser; admin: TestUser }> {
  const h = await buildProbeKronus(t)
  const { user, admin } = await probedUser(h)
  await turnProbesOn(h, user, settings)
  return { h, user, admin }
}

t.test('a "yes" ends the probe good: one ask, a thank-you, flip rows and events, no alarm', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 2, wait_time_in_minutes: 10 })
  const startedAt = h.kronus.clock.now()
  await fireProbe(h, user.id)

  t.same(textsTo(h, user.phone_number), [probeTexts.ask(user.record.first_name)], 'the user is asked once')
  const [pending] = await probesOf(h.kronus.knex, user.id)
  t.match(pending, { status: 'pending', retry_count: 0, pending_user_id: user.id, origin: 'scheduled' })

  h.kronus.clock.advanceMinutes(3)
  const reply = await h.probes.handleReply({ userId: user.id, text: ' Yes ' })
  t.same(reply, { outcome: 'good', probeId: pending!.id, answer: probeTexts.good(user.record.first_name) })
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'good', pending_user_id: null, last_response: ' Yes ' }])

  t.same(
    (await flipsOf(h.kronus.knex, pending!.id)).map((f) => [f.from_status, f.to_status, f.reason, f.created_at]),
    [
      [null, 'pending', 'scheduled probe', startedAt],
      ['pending', 'good', 'replied "Yes"', startedAt + 3 * MINUTE]
    ]
  )
  t.same(
    await eventTypesOf(h, user.id),
    ['probe.started', 'probe.reply_received', 'probe.status_changed', 'user.aliveness_changed'],
    'no emergency.triggered'
  )
  t.same(await eventsOf(h, user.id, 'probe.started'), [
    { userId: user.id, probeId: pending!.id, origin: 'scheduled', maxRetries: 2, waitTimeInMinutes: 10 }
  ])
  t.same(await eventsOf(h, user.id, 'probe.reply_received'), [
    { userId: user.id, probeId: pending!.id, text: ' Yes ', understood: true }
  ])
  t.same(await eventsOf(h, user.id, 'probe.status_changed'), [
    { userId: user.id, probeId: pending!.id, from: 'pending', to: 'good', reason: 'replied "Yes"' }
  ])
  t.same(await eventsOf(h, user.id, 'user.aliveness_changed'), [
    { userId: user.id, from: 'unknown', to: 'good', probeId: pending!.id }
  ])

  // The timer set at the start finds the probe ended and sends nothing.
  await advance(h, 60)
  t.equal(textsTo(h, user.phone_number).length, 1, 'no follow-up after the answer')
})

t.test('a "no" ends the probe bad, reassures the user and triggers the emergency', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)

  const reply = await h.probes.handleReply({ userId: user.id, text: 'NOPE' })
  t.same(reply, { outcome: 'bad', probeId: probe!.id, answer: probeTexts.bad() })
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'bad', last_response: 'NOPE' }])
  t.same(await eventTypesOf(h, user.id), [
    'probe.started',
    'probe.reply_received',
    'probe.status_changed',
    'user.aliveness_changed',
    'emergency.triggered'
  ])
  t.same(await eventsOf(h, user.id, 'emergency.triggered'), [{ userId: user.id, probeId: probe!.id, status: 'bad' }])
  t.same(await eventsOf(h, user.id, 'user.aliveness_changed'), [
    { userId: user.id, from: 'unknown', to: 'bad', probeId: probe!.id }
  ])

  await advance(h, 120)
  t.equal(textsTo(h, user.phone_number).length, 1, 'no follow-up after a "no"')
})

t.test('no answer: exactly max_retries follow-ups, one per wait, then unavailable', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  const startedAt = h.kronus.clock.now()
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)
  const first = user.record.first_name

  await advance(h, 9)
  t.equal(textsTo(h, user.phone_number).length, 1, 'nothing before the wait is over')
  await advance(h, 1)
  t.same(
    textsTo(h, user.phone_number),
    [probeTexts.ask(first), probeTexts.followUp(first)],
    'first follow-up after 10 minutes'
  )
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 1 }])
  await advance(h, 10)
  await advance(h, 10)
  t.equal(textsTo(h, user.phone_number).length, 4, 'three follow-ups after 30 minutes')
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 3 }])

  await advance(h, 9)
  t.match(
    await probesOf(h.kronus.knex, user.id),
    [{ status: 'pending' }],
    'still pending a minute before the last wait ends'
  )
  await advance(h, 1)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'unavailable', retry_count: 3, pending_user_id: null }])
  t.equal(textsTo(h, user.phone_number).length, 4, 'no fifth text')

  const flips = await flipsOf(h.kronus.knex, probe!.id)
  t.same(
    flips.map((f) => [f.from_status, f.to_status, f.reason, f.created_at]),
    [
      [null, 'pending', 'scheduled probe', startedAt],
      ['pending', 'unavailable', 'no reply after 3 follow-up(s)', startedAt + 40 * MINUTE]
    ]
  )
  t.same(await eventTypesOf(h, user.id), [
    'probe.started',
    'probe.follow_up_sent',
    'probe.follow_up_sent',
    'probe.follow_up_sent',
    'probe.status_changed',
    'user.aliveness_changed',
    'emergency.triggered'
  ])
  t.same(
    (await eventsOf(h, user.id, 'probe.follow_up_sent')).map((e) => e.retryCount),
    [1, 2, 3]
  )
  t.same(await eventsOf(h, user.id, 'emergency.triggered'), [
    { userId: user.id, probeId: probe!.id, status: 'unavailable' }
  ])

  await advance(h, 600)
  t.equal(textsTo(h, user.phone_number).length, 4, 'an ended probe sends nothing more')
})

t.test('max_retries 0: no follow-up, unavailable after one wait', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 0, wait_time_in_minutes: 5 })
  const startedAt = h.kronus.clock.now()
  await fireProbe(h, user.id)
  await advance(h, 4)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending' }])
  await advance(h, 1)
  const [probe] = await probesOf(h.kronus.knex, user.id)
  t.match(probe, { status: 'unavailable', retry_count: 0 })
  t.equal(textsTo(h, user.phone_number).length, 1, 'only the ask')
  t.same((await flipsOf(h.kronus.knex, probe!.id)).at(-1), {
    probe_id: probe!.id,
    from_status: 'pending',
    to_status: 'unavailable',
    reason: 'no reply after 0 follow-up(s)',
    created_at: startedAt + 5 * MINUTE
  })
  t.notOk((await eventTypesOf(h, user.id)).includes('probe.follow_up_sent'))
})

t.test('replies that are not understood are kept and hinted at, and never delay the alarm', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 2, wait_time_in_minutes: 10 })
  const startedAt = h.kronus.clock.now()
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)

  await advance(h, 10) // the first follow-up
  await advance(h, 5)
  const reply = await h.probes.handleReply({ userId: user.id, text: 'maybe later' })
  t.same(reply, { outcome: 'not_understood', probeId: probe!.id, answer: probeTexts.notUnderstood() })
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 1, last_response: 'maybe later' }])

  await advance(h, 5) // the second follow-up is due at 20, as if nothing had been said
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 2 }])
  h.kronus.clock.advance(10 * MINUTE - 1000) // one second before the end
  await h.probes.handleReply({ userId: user.id, text: 'hmm?' })
  await h.kronus.queue.drain()
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', last_response: 'hmm?' }])
  await advance(h, 1 / 60)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'unavailable', last_response: 'hmm?' }])
  t.equal(
    (await flipsOf(h.kronus.knex, probe!.id)).at(-1)!.created_at,
    startedAt + 30 * MINUTE,
    'unavailable exactly at start + (max_retries + 1) waits'
  )
  t.equal(
    textsTo(h, user.phone_number).length,
    3,
    'ask and two follow-ups; hints are answered by the receiving channel'
  )
  t.same(await eventsOf(h, user.id, 'probe.reply_received'), [
    { userId: user.id, probeId: probe!.id, text: 'maybe later', understood: false },
    { userId: user.id, probeId: probe!.id, text: 'hmm?', understood: false }
  ])
  t.equal((await flipsOf(h.kronus.knex, probe!.id)).length, 2, 'a reply not understood is no status change')
})

t.test('a reply after the probe ended changes nothing', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  const [probe] = await probesOf(h.kronus.knex, user.id)
  const eventsBefore = await eventTypesOf(h, user.id)

  t.same(await h.probes.handleReply({ userId: user.id, text: 'n' }), {
    outcome: 'no_pending_probe',
    probeId: null,
    answer: probeTexts.noPendingProbe()
  })
  t.same(
    await h.probes.handleReply({ userId: user.id, text: 'what?' }),
    { outcome: 'no_pending_probe', probeId: null, answer: null },
    'other text is left to the caller'
  )
  t.same(await probesOf(h.kronus.knex, user.id), [{ ...probe!, status: 'good', last_response: 'y' }])
  t.equal((await flipsOf(h.kronus.knex, probe!.id)).length, 2)
  t.same(await eventTypesOf(h, user.id), eventsBefore, 'no event either')

  // The same after an expiry: a late "yes" does not undo the alarm.
  h.kronus.clock.advanceMinutes(60)
  await fireProbe(h, user.id)
  await advance(h, 5)
  const second = (await probesOf(h.kronus.knex, user.id))[1]!
  t.equal(second.status, 'unavailable')
  t.equal((await h.probes.handleReply({ userId: user.id, text: 'yes' })).outcome, 'no_pending_probe')
  t.equal((await probesOf(h.kronus.knex, user.id))[1]!.status, 'unavailable')
  t.equal((await flipsOf(h.kronus.knex, second.id)).length, 2)
})

t.test('two racing replies: exactly one wins, with one flip row and one set of events', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)

  const results = await Promise.all([
    h.probes.handleReply({ userId: user.id, text: 'Y' }),
    h.probes.handleReply({ userId: user.id, text: 'N' })
  ])
  const winners = results.filter((r) => r.outcome === 'good' || r.outcome === 'bad')
  t.equal(winners.length, 1, 'one reply wins')
  t.equal(results.filter((r) => r.outcome === 'no_pending_probe').length, 1, 'the other finds no pending probe')
  const [final] = await probesOf(h.kronus.knex, user.id)
  t.equal(final!.status, winners[0]!.outcome)
  const flips = await flipsOf(h.kronus.knex, probe!.id)
  t.same(
    flips.map((f) => f.to_status),
    ['pending', winners[0]!.outcome]
  )
  t.equal((await eventsOf(h, user.id, 'probe.status_changed')).length, 1)
  t.equal((await eventsOf(h, user.id, 'user.aliveness_changed')).length, 1)
})

t.test('a reply racing the expiry timer: the probe ends once, one way or the other', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)
  h.kronus.clock.advanceMinutes(5)
  await Promise.all([h.kronus.queue.drain(), h.probes.handleReply({ userId: user.id, text: 'yes' })])
  const [final] = await probesOf(h.kronus.knex, user.id)
  t.ok(final!.status === 'good' || final!.status === 'unavailable', final!.status)
  t.same(
    (await flipsOf(h.kronus.knex, probe!.id)).map((f) => f.to_status),
    ['pending', final!.status]
  )
  t.equal((await eventsOf(h, user.id, 'probe.status_changed')).length, 1)
})

t.test('the conditional update lets only the first of two changes through, even without a pre-check', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)
  const deps = { clock: h.kronus.clock, events: h.events, alarms: h.kronus.alarms }
  const outcomes = await h.kronus.knex.transaction(async (trx) => [
    await changeProbeStatus(deps, trx, { probeId: probe!.id, userId: user.id, to: 'good', reason: 'first' }),
    await changeProbeStatus(deps, trx, { probeId: probe!.id, userId: user.id, to: 'bad', reason: 'second' })
  ])
  t.same(outcomes, [true, false])
  t.same(
    (await flipsOf(h.kronus.knex, probe!.id)).map((f) => f.reason),
    ['scheduled probe', 'first']
  )
  t.same(await eventsOf(h, user.id, 'emergency.triggered'), [], 'the loser records nothing')
})

t.test('turning probes off cancels the pending probe in the same request', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const [probe] = await probesOf(h.kronus.knex, user.id)
  await advance(h, 10)

  const res = await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: false }
  })
  t.equal(res.statusCode, 200)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'cancelled', pending_user_id: null, retry_count: 1 }])
  t.same(
    (await flipsOf(h.kronus.knex, probe!.id)).map((f) => [f.to_status, f.reason]),
    [
      ['pending', 'scheduled probe'],
      ['cancelled', 'probes turned off']
    ]
  )
  t.same(await eventsOf(h, user.id, 'probe.status_changed'), [
    { userId: user.id, probeId: probe!.id, from: 'pending', to: 'cancelled', reason: 'probes turned off' }
  ])
  t.same(await eventsOf(h, user.id, 'user.aliveness_changed'), [], 'a cancel says nothing new about the user')
  t.same(await eventsOf(h, user.id, 'emergency.triggered'), [])

  await advance(h, 120)
  t.equal(textsTo(h, user.phone_number).length, 2, 'no follow-up after the cancel')
  t.same(await h.probes.handleReply({ userId: user.id, text: 'y' }), {
    outcome: 'no_pending_probe',
    probeId: null,
    answer: probeTexts.noPendingProbe()
  })

  const again = await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: false }
  })
  t.equal(again.statusCode, 200, 'turning off with nothing pending is fine')
  t.equal((await flipsOf(h.kronus.knex, probe!.id)).length, 2)
})

t.test('a refused settings change cancels nothing', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const res = await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: false, max_retries: 9 }
  })
  t.equal(res.statusCode, 400)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending' }])
})

t.test('aliveness changes only on a different outcome; a cancel leaves it as it was', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  await advance(h, 60)
  await fireProbe(h, user.id)
  await h.probes.cancelPending(user.id, 'test')
  await advance(h, 60)
  await fireProbe(h, user.id)
  await advance(h, 5)
  await advance(h, 60)
  // The unavailable probe raised an alarm, and check-ins wait while it is open: the user's OK clears it.
  await h.kronus.messaging.receive({ from: user.phone_number, text: 'ok', channel: 'test' })
  await fireProbe(h, user.id)
  await h.probes.handleReply({ userId: user.id, text: 'yeah' })
  t.same(
    (await eventsOf(h, user.id, 'user.aliveness_changed')).map((e) => [e.from, e.to]),
    [
      ['unknown', 'good'],
      ['good', 'unavailable'],
      ['unavailable', 'good']
    ]
  )
})

t.test('a scheduled fire is skipped while the last probe is still pending', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 60 })
  await fireProbe(h, user.id)
  await advance(h, 5)
  await fireProbe(h, user.id)
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1, 'no second probe')
  t.equal(textsTo(h, user.phone_number).length, 1, 'no second ask')
  t.equal((await eventsOf(h, user.id, 'probe.started')).length, 1)

  await h.probes.handleReply({ userId: user.id, text: 'y' })
  await advance(h, 5)
  await fireProbe(h, user.id)
  t.same(
    (await probesOf(h.kronus.knex, user.id)).map((p) => p.status),
    ['good', 'pending'],
    'the next fire after the answer probes again'
  )
})

t.test('a user has at most one pending probe, enforced by the database', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 60 })
  await fireProbe(h, user.id)
  const started = await h.probes.start(user.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 5 })
  t.same(started, { started: false, reason: 'already_pending' })
  const now = h.kronus.clock.now()
  await t.rejects(
    h.kronus.knex('probes').insert({
      user_id: user.id,
      probe_status_id: 1,
      last_response: '',
      retry_count: 0,
      max_retries: 1,
      wait_time_in_minutes: 5,
      origin: 'on_demand',
      pending_user_id: user.id,
      created_at: now,
      updated_at: now
    }),
    /UNIQUE|unique/
  )
})

t.test('the same fire run twice (its worker died after committing) asks once', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 60 })
  const fireAt = h.kronus.clock.now()
  t.match(await h.probes.fire({ userId: user.id, fireAt }), { started: true })
  await h.probes.handleReply({ userId: user.id, text: 'y' })
  t.same(await h.probes.fire({ userId: user.id, fireAt }), { started: false, reason: 'already_started' })
  await h.kronus.queue.drain()
  t.equal(textsTo(h, user.phone_number).length, 1)
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1)
})

t.test('a fire for a user whose probes are off, or who is gone, does nothing', async (t) => {
  const h = await buildProbeKronus(t)
  const { user, admin } = await probedUser(h)
  await fireProbe(h, user.id) // probes are off by default
  t.same(await probesOf(h.kronus.knex, user.id), [])

  await turnProbesOn(h, user)
  await h.kronus.queue.enqueue('probe.fire', { userId: user.id, fireAt: h.kronus.clock.now() }, { userId: user.id })
  await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: false }
  })
  await h.kronus.queue.drain()
  t.same(await probesOf(h.kronus.knex, user.id), [], 'turned off between the enqueue and the run')

  const gone = await anotherProbedUser(h, admin)
  await turnProbesOn(h, gone)
  await call(h.kronus, { method: 'DELETE', url: `/v1/users/${gone.id}`, token: gone.token })
  t.equal(await h.probes.fire({ userId: gone.id, fireAt: h.kronus.clock.now() }), null)
  await h.kronus.queue.drain()
  t.same(h.channel.sent, [], 'nobody was texted')
})

t.test('deleting a user with a pending probe stops its follow-ups', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 3, wait_time_in_minutes: 10 })
  await fireProbe(h, user.id)
  const del = await call(h.kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: user.token })
  t.equal(del.statusCode, 200)
  await advance(h, 120)
  t.equal(textsTo(h, user.phone_number).length, 1, 'only the ask sent before the delete')
})

t.test("a cron fire of the scheduler starts a probe with the user's settings", async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 15 })
  // The default schedule is Wednesdays at 18:00 UTC; the fake clock starts on Monday 5 January 2026.
  h.kronus.clock.set('2026-01-07T18:00:00Z')
  await h.kronus.scheduler.tick()
  await h.kronus.queue.drain()
  t.same(textsTo(h, user.phone_number), [probeTexts.ask(user.record.first_name)])
  t.same(await eventsOf(h, user.id, 'probe.started'), [
    {
      userId: user.id,
      probeId: (await probesOf(h.kronus.knex, user.id))[0]!.id,
      origin: 'scheduled',
      maxRetries: 1,
      waitTimeInMinutes: 15
    }
  ])
  await advance(h, 15)
  await advance(h, 15)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'unavailable', retry_count: 1 }])
})

t.test("a reply can be matched by the sender's phone number", async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 15 })
  await fireProbe(h, user.id)
  t.equal(await h.probes.handleReplyFromPhone('+19999999999', 'y'), null, "a stranger is nobody's reply")
  t.match(await h.probes.handleReplyFromPhone(user.phone_number, 'n'), { outcome: 'bad' })
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'bad' }])
})

t.test('a pending probe whose timer job died is escalated at the next scheduled fire', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 0, wait_time_in_minutes: 5 })
  await fireProbe(h, user.id)
  // The timer failed on every attempt (say, the database was unreachable) and is dead.
  await h.kronus.knex('jobs').where({ name: 'probe.follow_up' }).update({ status: 'dead', live_key: null })
  await advance(h, 60)
  t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending' }], 'stuck without its timer')

  await fireProbe(h, user.id)
  t.match(
    await probesOf(h.kronus.knex, user.id),
    [{ status: 'unavailable' }],
    'the fire re-armed the timer, which ended the probe'
  )
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1, 'the fire itself was skipped')
  t.equal((await eventsOf(h, user.id, 'emergency.triggered')).length, 1)
})

t.test('a fire while the timer is alive does not add a second timer', async (t) => {
  const { h, user } = await setUp(t, { max_retries: 1, wait_time_in_minutes: 30 })
  await fireProbe(h, user.id)
  await advance(h, 5)
  await fireProbe(h, user.id)
  t.equal(
    await h.kronus
      .knex('jobs')
      .where({ name: 'probe.follow_up' })
      .count({ n: '*' })
      .first()
      .then((r: any) => Number(r.n)),
    1
  )
  await advance(h, 25)
  t.equal(textsTo(h, user.phone_number).length, 2, 'one follow-up at 30 minutes, not earlier')
})
