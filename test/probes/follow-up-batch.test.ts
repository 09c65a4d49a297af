import t from 'tap'
import { chunks } from '../../src/db/chunks.js'
import { ROLE_ID } from '../../src/domain/constants.js'
import { FOLLOW_UP_BATCH_SIZE } from '../../src/probes/lifecycle.js'
import { probeTexts } from '../../src/probes/messages.js'
import { changeProbeStatuses } from '../../src/probes/status-change.js'
import { createAdmin, type TestUser } from '../helpers/http.js'
import {
  advance,
  anotherProbedUser,
  buildProbeKronus,
  eventsOf,
  flipsOf,
  type ProbeHarness,
  probesOf,
  textsTo,
  turnProbesOn
} from './harness.js'

const MINUTE = 60_000

/** Queues a probe.fire per user, as one scheduler tick does, and runs them. */
async function fireAll(h: ProbeHarness, userIds: number[]): Promise<void> {
  const now = h.kronus.clock.now()
  await h.kronus.queue.enqueueMany(
    'probe.fire',
    userIds.map((userId) => ({
      payload: { userId, fireAt: now },
      options: { key: `probe.fire:${userId}:${now}`, userId }
    }))
  )
  await h.kronus.queue.drain()
}

/** The timers each follow-up batch was handed, batch by batch. */
function recordBatches(h: ProbeHarness): Array<Array<{ probeId: number; retry: number }>> {
  const batches: Array<Array<{ probeId: number; retry: number }>> = []
  const followUpMany = h.probes.followUpMany.bind(h.probes)
  h.probes.followUpMany = (timers) => {
    batches.push([...timers])
    return followUpMany(timers)
  }
  return batches
}

async function probedUsers(h: ProbeHarness, n: number, settings: Record<string, unknown>): Promise<TestUser[]> {
  const admin = await createAdmin(h.kronus)
  const users: TestUser[] = []
  for (let i = 0; i < n; i++) {
    const user = await anotherProbedUser(h, admin)
    await turnProbesOn(h, user, settings)
    users.push(user)
  }
  return users
}

function followUpsTo(h: ProbeHarness, user: TestUser): string[] {
  return textsTo(h, user.phone_number).filter((text) => text === probeTexts.followUp(user.record.first_name))
}

/**
 * Users with probes on, written straight to the database: going through the API (a
 * password hash per user) would take most of the test.
 */
async function seedUsers(h: ProbeHarness, n: number): Promise<number[]> {
  const { knex } = h.kronus
  const now = h.kronus.clock.now()
  const ids: number[] = []
  for (const part of chunks(Array.from({ length: n }, (_, i) => i + 1))) {
    const rows: Array<{ id: number | string }> = await knex('users')
      .insert(
        part.map((i) => ({
          first_name: `Seeded${i}`,
          last_name: 'Person',
          email: `seeded${i}@example.com`,
          phone_number: `+1555${String(i).padStart(7, '0')}`,
          password_hash: 'not-a-password-hash',
          role_id: ROLE_ID.basic,
          created_at: now,
          updated_at: now
        }))
      )
      .returning('id')
    ids.push(...rows.map((row) => Number(typeof row === 'object' ? row.id : row)))
  }
  for (const part of chunks(ids)) {
    await knex('probe_settings').insert(
      part.map((userId) => ({
        user_id: userId,
        active: true,
        cron_expression: '0 9 * * *',
        max_retries: 2,
        wait_time_in_minutes: 30,
        time_zone: 'UTC',
        next_fire_at: now + 86_400_000,
        created_at: now,
        updated_at: now
      }))
    )
  }
  return ids
}

t.test('1,000 unanswered check-ins get exactly one follow-up each, in a few batches', async (t) => {
  const h = await buildProbeKronus(t)
  const userIds = await seedUsers(h, 1000)
  await fireAll(h, userIds)
  t.equal(h.channel.sent.length, 1000, 'each user was asked')
  const batches = recordBatches(h)

  await advance(h, 30)
  await h.events.settled()
  const followUps = h.channel.sent.filter((m) => m.text.includes('we have not heard back from you'))
  t.equal(followUps.length, 1000, 'one follow-up text per check-in')
  t.equal(new Set(followUps.map((m) => m.to)).size, 1000, 'to each user once')
  t.equal(
    batches.reduce((n, b) => n + b.length, 0),
    1000,
    'every timer ran in a batch'
  )
  t.ok(
    batches.every((b) => b.length <= FOLLOW_UP_BATCH_SIZE),
    `no batch over ${FOLLOW_UP_BATCH_SIZE}`
  )
  t.ok(batches.length <= 2 * Math.ceil(1000 / FOLLOW_UP_BATCH_SIZE), `in a few batches (${batches.length})`)

  const { knex } = h.kronus
  const probes = await knex('probes').whereIn('user_id', userIds).select('id', 'retry_count', 'probe_status_id')
  t.equal(probes.length, 1000)
  t.ok(
    probes.every((p) => Number(p.retry_count) === 1),
    'every probe is at its first follow-up'
  )
  const [{ n: sentEvents }] = await knex('events').where({ type: 'probe.follow_up_sent' }).count({ n: '*' })
  t.equal(Number(sentEvents), 1000, 'one probe.follow_up_sent each')
  const timers = await knex('jobs').where({ name: 'probe.follow_up', status: 'scheduled' }).select('payload', 'run_at')
  t.equal(timers.length, 1000, 'each probe has its next timer')
  t.ok(
    timers.every((j) => JSON.parse(j.payload).retry === 1 && Number(j.run_at) === h.kronus.clock.now() + 30 * MINUTE),
    'for the second follow-up, a wait from now'
  )
  const left = await knex('jobs').where({ name: 'probe.follow_up' }).whereNotIn('status', ['successful', 'scheduled'])
  t.same(left, [], 'every first timer ended successful')
})

t.test('a check-in answered before its batch runs gets no follow-up; the others in the batch do', async (t) => {
  const h = await buildProbeKronus(t)
  const [first, answering, last] = await probedUsers(h, 3, { max_retries: 2, wait_time_in_minutes: 30 })
  await fireAll(
    h,
    [first!, answering!, last!].map((u) => u.id)
  )
  const batches = recordBatches(h)
  const reply = await h.probes.handleReply({ userId: answering!.id, text: 'Y' })
  t.equal(reply.outcome, 'good')

  await advance(h, 30)
  t.equal(batches.length, 1, "the three timers ran in one batch, the answered probe's with them")
  t.equal(batches[0]!.length, 3)
  t.same(followUpsTo(h, answering!), [], 'the user who answered is not followed up')
  t.match(await probesOf(h.kronus.knex, answering!.id), [{ status: 'good', retry_count: 0 }])
  t.same(await eventsOf(h, answering!.id, 'probe.follow_up_sent'), [])
  for (const user of [first!, last!]) {
    t.equal(followUpsTo(h, user).length, 1, 'the others are')
    t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 1 }])
  }
  const nextTimers = await h.kronus.knex('jobs').where({ name: 'probe.follow_up', status: 'scheduled' })
  t.same(
    nextTimers.map((j) => Number(j.user_id)).sort(),
    [first!.id, last!.id].sort(),
    'and only they get a next timer'
  )
})

t.test('a timer run twice, or twice in one batch, sends one text', async (t) => {
  const h = await buildProbeKronus(t)
  const [user] = await probedUsers(h, 1, { max_retries: 3, wait_time_in_minutes: 30 })
  await fireAll(h, [user!.id])
  const [probe] = await probesOf(h.kronus.knex, user!.id)
  await advance(h, 30)
  t.equal(followUpsTo(h, user!).length, 1)

  // The first timer runs again (its worker's lock lapsed after it had committed, say).
  const now = h.kronus.clock.now()
  await h.kronus.knex('jobs').insert({
    name: 'probe.follow_up',
    payload: JSON.stringify({ probeId: probe!.id, retry: 0 }),
    status: 'enqueued',
    user_id: user!.id,
    run_at: now,
    fair_at: now,
    priority: 0,
    attempts: 0,
    max_attempts: 4,
    created_at: now,
    updated_at: now
  })
  await h.kronus.queue.drain()
  t.equal(followUpsTo(h, user!).length, 1, 'the timer run again sent nothing')

  // The second timer, twice in one batch: one second follow-up.
  const second = { probeId: probe!.id, retry: 1 }
  t.same(await h.probes.followUpMany([second, second]), [undefined, undefined], 'both end well')
  await h.kronus.queue.drain()
  t.equal(followUpsTo(h, user!).length, 2, 'one more text, not two')
  t.same(
    (await eventsOf(h, user!.id, 'probe.follow_up_sent')).map((e) => e.retryCount),
    [1, 2]
  )
  t.match(await probesOf(h.kronus.knex, user!.id), [{ status: 'pending', retry_count: 2 }])
})

t.test('a batch where one probe’s user was deleted still follows up the rest', async (t) => {
  const h = await buildProbeKronus(t)
  const users = await probedUsers(h, 3, { max_retries: 2, wait_time_in_minutes: 30 })
  await fireAll(
    h,
    users.map((u) => u.id)
  )
  const timers = []
  for (const user of users) timers.push({ probeId: (await probesOf(h.kronus.knex, user.id))[0]!.id, retry: 0 })
  h.kronus.clock.advanceMinutes(30)
  // The batch was claimed, then the second user deleted (their probe goes with them).
  await h.kronus.services.users.delete(users[1]!.id)
  t.same(await h.probes.followUpMany(timers), [undefined, undefined, undefined], 'every timer of the batch ends well')
  await h.kronus.queue.drain()
  t.same(followUpsTo(h, users[1]!), [], 'nothing to the deleted user')
  for (const user of [users[0]!, users[2]!]) {
    t.equal(followUpsTo(h, user).length, 1, 'the others are followed up')
    t.match(await probesOf(h.kronus.knex, user.id), [{ status: 'pending', retry_count: 1 }])
  }
})

t.test('timeouts in a batch end each probe unavailable and raise one alarm each', async (t) => {
  const h = await buildProbeKronus(t)
  const users = await probedUsers(h, 3, { max_retries: 1, wait_time_in_minutes: 30 })
  await fireAll(
    h,
    users.map((u) => u.id)
  )
  const batches = recordBatches(h)
  await advance(h, 30)
  for (const user of users) t.equal(followUpsTo(h, user).length, 1)
  await advance(h, 30)
  t.equal(batches.length, 2, 'the follow-ups in one batch, the timeouts in another')
  t.equal(batches[1]!.length, 3)
  for (const user of users) {
    const [probe] = await probesOf(h.kronus.knex, user.id)
    t.match(probe, { status: 'unavailable', retry_count: 1, pending_user_id: null })
    t.match(await flipsOf(h.kronus.knex, probe!.id), [
      { to_status: 'pending' },
      { from_status: 'pending', to_status: 'unavailable', reason: 'no reply after 1 follow-up(s)' }
    ])
    const alarms = await h.kronus.knex('alarms').where({ user_id: user.id })
    t.equal(alarms.length, 1, 'one alarm for the user')
    t.equal(Number(alarms[0].probe_id), probe!.id, 'for this probe')
    t.same(await eventsOf(h, user.id, 'emergency.triggered'), [
      { userId: user.id, probeId: probe!.id, status: 'unavailable' }
    ])
  }
  t.equal(followUpsTo(h, users[0]!).length, 1, 'no follow-up after the last')
})

/** The texts each emergency contact of the user was sent, by phone. */
async function contactTexts(h: ProbeHarness, userId: number): Promise<string[][]> {
  const contacts = await h.kronus.knex('contacts').where({ user_id: userId, is_emergency_contact: true })
  return contacts.map((c) => h.channel.sent.filter((m) => m.to === c.phone_number).map((m) => m.text))
}

t.test(
  'timeouts in one batch: each alarm raised once and its contact alerted; a probe answered before stays answered',
  async (t) => {
    const h = await buildProbeKronus(t)
    const [before, answering, after] = await probedUsers(h, 3, { max_retries: 1, wait_time_in_minutes: 30 })
    // The first has answered an earlier check-in: their aliveness goes good → unavailable.
    await fireAll(h, [before!.id])
    await h.probes.handleReply({ userId: before!.id, text: 'Y' })
    h.kronus.clock.advanceMinutes(60)
    await fireAll(
      h,
      [before!, answering!, after!].map((u) => u.id)
    )
    await advance(h, 30)
    await h.probes.handleReply({ userId: answering!.id, text: 'Y' })
    const batches = recordBatches(h)
    await advance(h, 30)
    await h.events.settled()
    t.equal(batches.length, 1, 'the timeouts ran as one batch')
    t.equal(batches[0]!.length, 3, 'with the answered one')

    for (const user of [before!, after!]) {
      const probe = (await probesOf(h.kronus.knex, user.id)).at(-1)!
      t.match(probe, { status: 'unavailable', pending_user_id: null })
      const alarms = await h.kronus.knex('alarms').where({ user_id: user.id })
      t.equal(alarms.length, 1, 'one alarm')
      t.match(alarms[0], { trigger: 'no_answer', status: 'open' })
      t.equal(Number(alarms[0].probe_id), probe.id, 'for this probe')
      const [texts] = await contactTexts(h, user.id)
      t.equal(texts!.length, 1, 'the emergency contact got one alert')
      t.match(texts![0], /has not answered their check-ins/)
      t.same(
        (await eventsOf(h, user.id, 'probe.status_changed')).filter((e) => e.probeId === probe.id),
        [
          {
            userId: user.id,
            probeId: probe.id,
            from: 'pending',
            to: 'unavailable',
            reason: 'no reply after 1 follow-up(s)'
          }
        ]
      )
      t.same(await eventsOf(h, user.id, 'emergency.triggered'), [
        { userId: user.id, probeId: probe.id, status: 'unavailable' }
      ])
      t.equal((await eventsOf(h, user.id, 'alarm.raised')).length, 1, 'one alarm.raised')
    }
    t.same(
      (await eventsOf(h, before!.id, 'user.aliveness_changed')).map((e) => [e.from, e.to]),
      [
        ['unknown', 'good'],
        ['good', 'unavailable']
      ],
      'aliveness as it was before the batch'
    )
    t.same(
      (await eventsOf(h, after!.id, 'user.aliveness_changed')).map((e) => [e.from, e.to]),
      [['unknown', 'unavailable']]
    )

    t.match(await probesOf(h.kronus.knex, answering!.id), [{ status: 'good' }])
    t.same(await h.kronus.knex('alarms').where({ user_id: answering!.id }), [], 'no alarm for the answered probe')
    t.same((await contactTexts(h, answering!.id))[0], [], 'its contact got nothing')

    // The same timers run again (a worker that died after its commit): nothing more.
    const alarmsBefore = await h.kronus.knex('alarms').count({ n: '*' })
    const eventsBefore = await h.kronus.knex('events').count({ n: '*' })
    t.same(await h.probes.followUpMany(batches[0]!), [undefined, undefined, undefined])
    await h.kronus.queue.drain()
    t.same(await h.kronus.knex('alarms').count({ n: '*' }), alarmsBefore, 'no second alarm')
    t.same(await h.kronus.knex('events').count({ n: '*' }), eventsBefore, 'no event')
  }
)

t.test('a batch of status changes moves only the probes still pending (at their retry), each once', async (t) => {
  const h = await buildProbeKronus(t)
  const users = await probedUsers(h, 4, { max_retries: 1, wait_time_in_minutes: 30 })
  await fireAll(
    h,
    users.map((u) => u.id)
  )
  const probes = await Promise.all(users.map(async (u) => (await probesOf(h.kronus.knex, u.id))[0]!))
  // The second answered meanwhile; the third was followed up meanwhile (its retry moved on).
  await h.probes.handleReply({ userId: users[1]!.id, text: 'Y' })
  await h.kronus.knex('probes').where({ id: probes[2]!.id }).update({ retry_count: 1 })
  const change = (i: number) => ({
    probeId: probes[i]!.id,
    userId: users[i]!.id,
    to: 'unavailable' as const,
    atRetry: 0,
    reason: 'no reply after 0 follow-up(s)'
  })
  const won = await h.kronus.knex.transaction((trx) =>
    changeProbeStatuses({ clock: h.kronus.clock, events: h.events, alarms: h.kronus.alarms }, trx, [
      change(0),
      change(1),
      change(2),
      change(3),
      change(0)
    ])
  )
  t.same(won, [true, false, false, true, false], 'the pending ones at their retry, a probe named twice once')
  await h.kronus.queue.drain()
  t.same(
    (await probesOf(h.kronus.knex, users[2]!.id)).map((p) => p.status),
    ['pending'],
    'the one whose retry moved on is still pending'
  )
  for (const i of [0, 3]) {
    t.equal((await flipsOf(h.kronus.knex, probes[i]!.id)).length, 2, 'pending, then unavailable')
    t.equal((await h.kronus.knex('alarms').where({ user_id: users[i]!.id })).length, 1, 'one alarm')
  }
  for (const i of [1, 2]) t.same(await h.kronus.knex('alarms').where({ user_id: users[i]!.id }), [], 'no alarm')
  t.equal((await flipsOf(h.kronus.knex, probes[1]!.id)).at(-1)!.to_status, 'good', 'the answer stands')
})

t.test('timers written and claimed by a version that ran them one at a time are run in batches', async (t) => {
  const h = await buildProbeKronus(t)
  const [waiting, claimed] = await probedUsers(h, 2, { max_retries: 2, wait_time_in_minutes: 30 })
  await fireAll(h, [waiting!.id, claimed!.id])
  const rows = await h.kronus.knex('jobs').where({ name: 'probe.follow_up' }).orderBy('id')
  t.same(
    rows.map((r) => [r.status, r.lane]),
    [
      ['scheduled', null],
      ['scheduled', null]
    ],
    'a timer has no lane, as a single job of that version had none'
  )
  // The second was claimed by a worker of that version which then stopped: its lock lapses.
  const now = h.kronus.clock.now()
  await h.kronus
    .knex('jobs')
    .where({ name: 'probe.follow_up', user_id: claimed!.id })
    .update({ status: 'in-progress', attempts: 1, locked_by: 'old-worker', locked_at: now, lock_expires_at: now })
  const batches = recordBatches(h)
  await advance(h, 30)
  t.equal(batches.length, 1, 'both in one batch')
  for (const user of [waiting!, claimed!]) t.equal(followUpsTo(h, user).length, 1, 'each followed up once')
  const left = await h.kronus
    .knex('jobs')
    .where({ name: 'probe.follow_up' })
    .whereNotIn('status', ['successful', 'scheduled'])
  t.same(left, [])
})
