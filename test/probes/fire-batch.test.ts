import t from 'tap'
import { probeTexts } from '../../src/probes/messages.js'
import { createAdmin, type TestUser } from '../helpers/http.js'
import {
  advance,
  anotherProbedUser,
  buildProbeKronus,
  eventsOf,
  flipsOf,
  type ProbeHarness,
  probedUser,
  probesOf,
  textsTo,
  turnProbesOn
} from './harness.js'

/** Queues a probe.fire per user, as one scheduler tick does, and runs them: one batch. */
async function fireAll(h: ProbeHarness, fires: Array<{ userId: number; fireAt?: number }>): Promise<void> {
  const now = h.kronus.clock.now()
  await h.kronus.queue.enqueueMany(
    'probe.fire',
    fires.map(({ userId, fireAt = now }) => ({
      payload: { userId, fireAt },
      options: { key: `probe.fire:${userId}:${fireAt}`, userId }
    }))
  )
  await h.kronus.queue.drain()
}

async function usersWithSettings(
  h: ProbeHarness,
  settings: Array<{ max_retries: number; wait_time_in_minutes: number }>
): Promise<TestUser[]> {
  const admin = await createAdmin(h.kronus)
  const users: TestUser[] = []
  for (const s of settings) {
    const user = await anotherProbedUser(h, admin)
    await turnProbesOn(h, user, s)
    users.push(user)
  }
  return users
}

t.test('fires run together start each user their own probe, with their own settings, text and timer', async (t) => {
  const h = await buildProbeKronus(t)
  const settings = [
    { max_retries: 0, wait_time_in_minutes: 10 },
    { max_retries: 1, wait_time_in_minutes: 20 },
    { max_retries: 2, wait_time_in_minutes: 30 },
    { max_retries: 3, wait_time_in_minutes: 40 }
  ]
  const users = await usersWithSettings(h, settings)
  const started: number[] = []
  h.events.on('probe.started', ({ userId }) => void started.push(userId))
  // In reverse, so nothing lines up by accident with the order users were made in.
  await fireAll(
    h,
    [...users].reverse().map((u) => ({ userId: u.id }))
  )
  await h.events.settled()

  for (const [i, user] of users.entries()) {
    const probes = await probesOf(h.kronus.knex, user.id)
    t.equal(probes.length, 1, `user ${i} has one probe`)
    const probe = probes[0]!
    t.match(probe, { status: 'pending', retry_count: 0, pending_user_id: user.id, origin: 'scheduled' })
    t.match(await flipsOf(h.kronus.knex, probe.id), [
      { from_status: null, to_status: 'pending', reason: 'scheduled probe' }
    ])
    t.same(await eventsOf(h, user.id, 'probe.started'), [
      {
        userId: user.id,
        probeId: probe.id,
        origin: 'scheduled',
        maxRetries: settings[i]!.max_retries,
        waitTimeInMinutes: settings[i]!.wait_time_in_minutes
      }
    ])
    t.same(textsTo(h, user.phone_number), [probeTexts.ask(user.record.first_name)], `user ${i} was asked once, by name`)
    const timer = await h.kronus.knex('jobs').where({ name: 'probe.follow_up', user_id: user.id }).first()
    t.same(JSON.parse(timer.payload), { probeId: probe.id, retry: 0 }, "the timer is for this user's probe")
    t.equal(Number(timer.run_at), h.kronus.clock.now() + settings[i]!.wait_time_in_minutes * 60_000)
  }
  t.same(started.sort(), users.map((u) => u.id).sort(), 'in-memory listeners heard each start once')

  // Each timer escalates its own probe: after 10 minutes only the first user's ended.
  await advance(h, 10)
  t.equal((await probesOf(h.kronus.knex, users[0]!.id))[0]!.status, 'unavailable')
  for (const user of users.slice(1)) t.equal((await probesOf(h.kronus.knex, user.id))[0]!.status, 'pending')
  await advance(h, 10)
  t.same(textsTo(h, users[1]!.phone_number), [
    probeTexts.ask(users[1]!.record.first_name),
    probeTexts.followUp(users[1]!.record.first_name)
  ])
  t.same(textsTo(h, users[2]!.phone_number), [probeTexts.ask(users[2]!.record.first_name)])
})

t.test('in one batch, each fire decides as it would alone: off, pending, already started, twice due', async (t) => {
  const h = await buildProbeKronus(t)
  const [off, pending, fired, twice, fresh] = await usersWithSettings(
    h,
    Array(5).fill({ max_retries: 1, wait_time_in_minutes: 30 })
  )
  await h.kronus.knex('probe_settings').where({ user_id: off!.id }).update({ active: false })
  await h.probes.start(pending!.id, { origin: 'on_demand', maxRetries: 1, waitTimeInMinutes: 30 })
  const earlier = h.kronus.clock.now() - 60_000
  await fireAll(h, [{ userId: fired!.id, fireAt: earlier }])
  // The pending probe's timer died: a fire must set it again.
  await h.kronus
    .knex('jobs')
    .where({ name: 'probe.follow_up', user_id: pending!.id })
    .update({ status: 'dead', live_key: null })
  await h.kronus.knex('jobs').where({ name: 'probe.fire' }).update({ live_key: null })

  await fireAll(h, [
    { userId: off!.id },
    { userId: pending!.id },
    { userId: fired!.id, fireAt: earlier },
    { userId: twice!.id, fireAt: earlier },
    { userId: twice!.id },
    { userId: fresh!.id }
  ])
  t.equal((await probesOf(h.kronus.knex, off!.id)).length, 0, 'probes off: nothing')
  t.equal((await probesOf(h.kronus.knex, pending!.id)).length, 1, 'a pending probe is not doubled')
  const rearmed = await h.kronus
    .knex('jobs')
    .where({ name: 'probe.follow_up', user_id: pending!.id })
    .whereIn('status', ['enqueued', 'scheduled'])
  t.equal(rearmed.length, 1, 'and its lost timer is set again')
  t.equal((await probesOf(h.kronus.knex, fired!.id)).length, 1, 'a fire already handled starts nothing')
  t.equal((await probesOf(h.kronus.knex, twice!.id)).length, 1, 'two fires of one user due together: one probe')
  t.equal((await probesOf(h.kronus.knex, fresh!.id)).length, 1)
  t.equal(textsTo(h, twice!.phone_number).length, 1)
  const jobs = await h.kronus.knex('jobs').where({ name: 'probe.fire' }).whereNot('status', 'successful')
  t.same(jobs, [], 'every fire job ended successful')
})

t.test('when the batch as a whole fails, each fire runs alone and none is lost', async (t) => {
  const h = await buildProbeKronus(t)
  const users = await usersWithSettings(h, Array(3).fill({ max_retries: 1, wait_time_in_minutes: 30 }))
  const recordMany = h.events.recordMany.bind(h.events)
  let failures = 0
  h.events.recordMany = (async (trx: any, type: any, payloads: any[]) => {
    if (type === 'probe.started' && payloads.length > 1) {
      failures++
      throw new Error('simulated failure of the batch')
    }
    return recordMany(trx, type, payloads)
  }) as typeof h.events.recordMany
  await fireAll(
    h,
    users.map((u) => ({ userId: u.id }))
  )
  t.equal(failures, 1)
  for (const user of users) {
    t.equal((await probesOf(h.kronus.knex, user.id)).length, 1)
    t.equal(textsTo(h, user.phone_number).length, 1)
    t.equal((await eventsOf(h, user.id, 'probe.started')).length, 1, 'nothing of the failed batch was kept')
  }
})

t.test('a user deleted before their fire runs gets nothing, and the others are not held back', async (t) => {
  const h = await buildProbeKronus(t)
  const { admin, user } = await probedUser(h)
  await turnProbesOn(h, user)
  const other = await anotherProbedUser(h, admin)
  await turnProbesOn(h, other)
  await fireAll(h, [{ userId: 999_999 }, { userId: user.id }, { userId: other.id }])
  t.equal((await probesOf(h.kronus.knex, user.id)).length, 1)
  t.equal((await probesOf(h.kronus.knex, other.id)).length, 1)
  t.equal(h.channel.sent.length, 2)
})
