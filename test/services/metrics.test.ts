import t from 'tap'
import {
  alarmsOf,
  buildScenario,
  checkIn,
  emergencyContactOf,
  type Scenario,
  setEscalation,
  text,
  wait
} from '../alarms/harness.js'
import { TWILIO_FAILURES } from '../fakes/twilio-api.js'
import type { TestKronus } from '../helpers/app.js'
import { createContact, createUser } from '../helpers/http.js'
import { type MetricFamily, parsePrometheus, sampleValue } from '../helpers/prometheus.js'
import { buildSmsKronus } from '../plugins/twilio-sms/sms-kronus.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.metrics.job': Record<string, never>
  }
}

/*
 * What GET /metrics reports, read through the service the route calls: state from the
 * database after check-ins, alarms and jobs made the way Kronus makes them, and counters
 * moved by texts sent, failed and reported undelivered through the real paths.
 */

async function metrics(kronus: Pick<TestKronus, 'services' | 'events'>): Promise<Map<string, MetricFamily>> {
  await kronus.events.settled()
  return parsePrometheus(await kronus.services.metrics.render())
}

function checkIns(families: Map<string, MetricFamily>): Record<string, number | undefined> {
  return Object.fromEntries(
    ['pending', 'good', 'bad', 'unavailable', 'cancelled'].map((status) => [
      status,
      sampleValue(families, 'kronus_checkins', { status })
    ])
  )
}

function nonZeroAlarms(families: Map<string, MetricFamily>): Record<string, number> {
  const samples = families.get('kronus_alarms')!.samples.filter((s) => s.value !== 0)
  return Object.fromEntries(samples.map((s) => [`${s.labels.trigger}/${s.labels.state}`, s.value]))
}

async function secondUser(s: Scenario, first_name: string) {
  return createUser(s.kronus, s.admin, { first_name })
}

t.test('check-ins and alarms: the database as it is at the scrape', async (t) => {
  const s = await buildScenario(t)
  const { kronus } = s

  // Ada says no; nobody answers her alarm until every step is spent.
  await emergencyContactOf(s, 'Mary')
  await setEscalation(s, { mode: 'all', step_minutes: 5, repeats: 1 })
  await checkIn(s)
  await text(s, s.user.phone_number, 'No.')
  await wait(s, 30)
  const [adas] = await alarmsOf(s)
  t.ok(adas.exhausted_at, 'her alarm ran out of steps')

  // Bob checks in fine, then sends SOS; his contact Carl acknowledges.
  const bob = await secondUser(s, 'Bob')
  const carl = await createContact(kronus, bob, { first_name: 'Carl', is_emergency_contact: true })
  await kronus.probes.start(bob.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 10 })
  await text(s, bob.phone_number, 'Yes')
  await text(s, bob.phone_number, 'SOS')
  const [bobs] = await alarmsOf(s, bob.id)
  t.equal(bobs.trigger, 'panic')
  t.match(await text(s, carl.phone_number, `OK ${bobs.code}`), /^Thank you Carl/)

  // Dan's check-in waits for his answer.
  const dan = await secondUser(s, 'Dan')
  await kronus.probes.start(dan.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 10 })

  const families = await metrics(kronus)
  t.same(checkIns(families), { pending: 1, good: 1, bad: 1, unavailable: 0, cancelled: 0 })
  t.same(nonZeroAlarms(families), { 'said_no/exhausted': 1, 'panic/acknowledged': 1 })
  t.equal(sampleValue(families, 'kronus_alarms_raised_total', { trigger: 'said_no' }), 1)
  t.equal(sampleValue(families, 'kronus_alarms_raised_total', { trigger: 'panic' }), 1)

  // Bob says he is OK: his alarm is resolved and leaves the gauge.
  await text(s, bob.phone_number, 'OK')
  t.same(nonZeroAlarms(await metrics(kronus)), { 'said_no/exhausted': 1 })

  // A day later the check-ins have left the 24-hour window; the open alarm has not.
  kronus.clock.advance(25 * 3600_000)
  const later = await metrics(kronus)
  t.same(checkIns(later), { pending: 0, good: 0, bad: 0, unavailable: 0, cancelled: 0 })
  t.same(nonZeroAlarms(later), { 'said_no/exhausted': 1 })
})

t.test('due jobs by lane, and how long the oldest has waited', async (t) => {
  const s = await buildScenario(t, { users: false })
  const { kronus } = s
  kronus.queue.define('test.metrics.job', async () => undefined)
  await kronus.queue.enqueue('test.metrics.job', {}, { lane: 'events:test-sub:5' })
  kronus.clock.advance(90_000)
  await kronus.queue.enqueue('test.metrics.job', {}, { lane: 'events:test-sub:global' })
  await kronus.queue.enqueue('test.metrics.job', {})
  await kronus.queue.enqueue('test.metrics.job', {}, { lane: 'events:test-sub:6', runAt: kronus.clock.now() + 60_000 })

  const families = await metrics(kronus)
  t.equal(sampleValue(families, 'kronus_jobs_due', { lane: 'events:test-sub' }), 2, 'one line for every user of a lane')
  t.equal(sampleValue(families, 'kronus_jobs_oldest_due_age_seconds', { lane: 'events:test-sub' }), 90)
  t.equal(sampleValue(families, 'kronus_jobs_due', { lane: 'test.metrics.job' }), 1, 'a job in no lane: its name')
  t.equal(sampleValue(families, 'kronus_jobs_oldest_due_age_seconds', { lane: 'test.metrics.job' }), 0)

  await kronus.queue.drain()
  const drained = await metrics(kronus)
  t.equal(sampleValue(drained, 'kronus_jobs_due', { lane: 'test.metrics.job' }), undefined, 'nothing due: no line')
  t.equal(sampleValue(drained, 'kronus_jobs_due', { lane: 'events:test-sub' }), undefined)
  kronus.clock.advance(60_000)
  t.equal(sampleValue(await metrics(kronus), 'kronus_jobs_due', { lane: 'events:test-sub' }), 1, 'the timer fell due')
})

t.test('texts sent, failed and undelivered: counted as Twilio answers and reports', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  const send = async (to: string) => {
    await kronus.messaging.send({ text: 'Kronus: are you OK?', to })
    await kronus.queue.drain()
  }
  const sidOf = async (to: string) => {
    const sent = (await kronus.events.list({ type: 'message.sent' })).map((e) => e.payload)
    return sent.find((e) => e.to === to)!.messageId!
  }

  await send('+15557770001')
  await send('+15557770002')
  await send('+15557770003')
  fake.failNext(1, TWILIO_FAILURES.invalidNumber)
  await send('+15557770004')
  t.equal((await fake.reportStatus(await sidOf('+15557770001'), 'delivered')).status, 204)
  t.equal((await fake.reportStatus(await sidOf('+15557770002'), 'undelivered', 30003)).status, 204)
  t.equal((await fake.reportStatus(await sidOf('+15557770003'), 'failed')).status, 204)

  const families = await metrics(kronus)
  t.equal(sampleValue(families, 'kronus_texts_sent_total', { channel: 'twilio' }), 3)
  t.equal(sampleValue(families, 'kronus_texts_failed_total', { channel: 'twilio', reason: 'permanent' }), 1)
  t.equal(sampleValue(families, 'kronus_texts_delivered_total', { channel: 'twilio' }), 1)
  t.equal(sampleValue(families, 'kronus_texts_undelivered_total', { channel: 'twilio', reason: '30003' }), 1)
  t.equal(
    sampleValue(families, 'kronus_texts_undelivered_total', { channel: 'twilio', reason: 'failed' }),
    1,
    'a report with no error code: its status'
  )

  // A twin receipt (Twilio retries its callbacks) is handled once, and counted once.
  await fake.reportStatus(await sidOf('+15557770002'), 'undelivered', 30003)
  t.equal(
    sampleValue(await metrics(kronus), 'kronus_texts_undelivered_total', { channel: 'twilio', reason: '30003' }),
    1
  )
})

t.test('a text that fails on every try is counted once, when Kronus gives up', async (t) => {
  const { kronus, fake } = await buildSmsKronus(t)
  fake.failNext(100, TWILIO_FAILURES.serverError)
  await kronus.messaging.send({ text: 'Kronus: are you OK?', to: '+15557770009' })
  for (let i = 0; i < 50; i++) {
    await kronus.queue.drain()
    const next = await kronus.knex('jobs').where({ status: 'scheduled' }).min({ at: 'run_at' }).first()
    if (next?.at === null || next?.at === undefined) break
    kronus.clock.set(Math.max(kronus.clock.now(), Number(next.at)))
  }
  const families = await metrics(kronus)
  t.equal(sampleValue(families, 'kronus_texts_failed_total', { channel: 'twilio', reason: 'retries_exhausted' }), 1)
  t.equal(sampleValue(families, 'kronus_texts_sent_total', { channel: 'twilio' }), undefined)
})
