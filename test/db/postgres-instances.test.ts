import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { emergencyContact } from '../../plugins/emergency-contact/index.js'
import { twilioSms } from '../../plugins/twilio-sms/index.js'
import { alarmTexts } from '../../src/alarms/texts.js'
import { FakeClock } from '../../src/clock.js'
import { probeTexts } from '../../src/probes/messages.js'
import { claimDueJobs } from '../../src/queue/claim.js'
import { QUEUE_BEHIND_MS } from '../../src/services/watchdog.js'
import { FakeTwilioApi } from '../fakes/twilio-api.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { createAdmin } from '../helpers/http.js'
import { RecordingChannel } from '../helpers/recording-channel.js'
import { insertPopulation, minuteOf, type PopulationUser } from '../multi-instance/population.js'
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  nextMessageSid,
  PUBLIC_URL,
  postSms,
  SERVICE_SID,
  textsTo
} from '../plugins/twilio-sms/sms-kronus.js'

/*
 * Two Kronus instances on one PostgreSQL schema, in one process, on one fake clock: the
 * scheduler, the workers and the Twilio webhook of both run at the same time, and each
 * fire, job and alert must still happen exactly once. (test/multi-instance runs three
 * real server processes and kills one.)
 */

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.instances.work': { n: number }
    'test.instances.cron': { label: string }
  }
}

interface Pair {
  a: TestKronus
  b: TestKronus
  fake: FakeTwilioApi
  clock: FakeClock
}

async function twoInstances(t: Test): Promise<Pair> {
  const clock = new FakeClock()
  const fake = await FakeTwilioApi.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, now: () => clock.now() })
  t.teardown(() => fake.close())
  const dir = mkdtempSync(join(tmpdir(), 'kronus-pg-pair-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const build = () =>
    buildKronus(t, {
      dir,
      clock,
      database: 'postgres',
      config: {
        kronus: { publicUrl: PUBLIC_URL },
        twilio: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, messagingServiceSid: SERVICE_SID },
        plugins: [
          // A frozen FakeClock never refills the send bucket: make it big enough for the test.
          twilioSms({ client: fake.client().client, messagesPerSecond: 1000, burst: 1000 }),
          emergencyContact()
        ]
      }
    })
  const a = await build()
  const b = await build()
  t.not(a.queue.workerId, b.queue.workerId)
  return { a, b, fake, clock }
}

/** Both workers run passes at the same time until, in one round, neither finds anything due. */
async function drainTogether(...instances: TestKronus[]): Promise<void> {
  for (let round = 0; round < 1000; round++) {
    const ran = await Promise.all(instances.map((k) => k.queue.runDue()))
    if (ran.every((n) => n === 0)) return
  }
  throw new Error('jobs were still due after 1000 rounds')
}

async function fireAll(t: Test, pair: Pair, users: PopulationUser[]): Promise<void> {
  const [fromA, fromB] = await Promise.all([pair.a.scheduler.tick(), pair.b.scheduler.tick()])
  t.equal(fromA! + fromB!, users.length, 'the two schedulers enqueued each due fire once between them')
  await drainTogether(pair.a, pair.b)
}

t.test(
  'two instances ticking and draining together: every fire makes exactly one probe and one text, and every job runs once',
  async (t) => {
    const pair = await twoInstances(t)
    const { a, b, fake, clock } = pair
    const users = await insertPopulation(a.knex, {
      users: 120,
      emergencyContactsPerUser: 1,
      fireAt: minuteOf(clock.now()),
      now: clock.now()
    })

    const [fromA, fromB] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()])
    t.equal(fromA + fromB, users.length, 'each due fire enqueued once between the two schedulers')
    t.same(await Promise.all([a.scheduler.tick(), b.scheduler.tick()]), [0, 0], 'and not again')
    await drainTogether(a, b)

    const probes = await a.knex('probes').select('user_id', 'start_key', 'probe_status_id')
    t.equal(probes.length, users.length, 'one probe per user')
    t.equal(new Set(probes.map((p) => p.user_id)).size, users.length)
    for (const user of users)
      t.same(textsTo(fake, user.phone), [probeTexts.ask(user.firstName)], `${user.phone} was asked exactly once`)

    const jobs = await a.knex('jobs').select('name', 'status', 'attempts')
    t.ok(jobs.length >= users.length * 2, 'fires and sends were jobs')
    t.same(
      jobs.filter((j) => !['successful', 'scheduled'].includes(j.status)),
      [],
      'every due job finished (follow-ups wait for their time)'
    )
    t.equal(
      jobs.filter((j) => j.name === 'probe.follow_up' && j.status === 'scheduled').length,
      users.length,
      'one follow-up timer per probe'
    )
    t.same(
      jobs.filter((j) => j.attempts !== 1 && j.status === 'successful'),
      [],
      'each was claimed and run exactly once'
    )
  }
)

t.test(
  'replies reach either instance, some twice (a retried webhook): every "no" alerts each emergency contact exactly once',
  async (t) => {
    const pair = await twoInstances(t)
    const { a, b, fake, clock } = pair
    const users = await insertPopulation(a.knex, {
      users: 60,
      emergencyContactsPerUser: 2,
      fireAt: minuteOf(clock.now()),
      now: clock.now()
    })
    await fireAll(t, pair, users)

    const replyOf = (i: number) => (['N', 'Y', 'maybe'] as const)[i % 3]!
    // Replies land while both workers are busy with the alerts of earlier ones.
    const draining = (async () => {
      for (let round = 0; round < 20; round++) await Promise.all([a.queue.runDue(), b.queue.runDue()])
    })()
    const answers = await Promise.all(
      users.map(async (user, i) => {
        const messageSid = nextMessageSid()
        const first = await postSms(i % 2 === 0 ? a : b, { from: user.phone, body: replyOf(i), messageSid })
        // Twilio retrying the same message at the other instance gets the same answer and changes nothing.
        const retried =
          i % 3 === 0 ? await postSms(i % 2 === 0 ? b : a, { from: user.phone, body: replyOf(i), messageSid }) : first
        return { first, retried }
      })
    )
    await draining
    await drainTogether(a, b)

    for (const [i, user] of users.entries()) {
      const { first, retried } = answers[i]!
      t.equal(first.statusCode, 200)
      t.same(retried.messages, first.messages, 'a retried webhook is answered the same')
      const probe = await a.knex('probes').where({ user_id: user.id }).first()
      const alerts = user.contacts.map((c) => textsTo(fake, c.phone))
      if (replyOf(i) === 'N') {
        t.same(first.messages, [probeTexts.bad()])
        t.equal(probe.probe_status_id, 3, 'bad')
        for (const [c, contact] of user.contacts.entries()) {
          t.equal(alerts[c]!.length, 1, `${contact.phone} alerted exactly once`)
          t.match(alerts[c]![0], /answered that they are NOT OK/)
        }
        const reached = alarmTexts.reportToUser(
          [],
          user.contacts.map((c) => `${c.firstName} Many`),
          []
        )
        t.same(
          textsTo(fake, user.phone),
          [probeTexts.ask(user.firstName), reached],
          'the user is asked once and told once whom Kronus reached'
        )
        t.equal(Number((await a.knex('emergency_probes').where({ probe_id: probe.id }).count({ n: '*' }))[0]!.n), 2)
      } else {
        t.same(alerts, [[], []], 'nobody alerted')
        t.equal(probe.probe_status_id, replyOf(i) === 'Y' ? 2 : 1)
      }
    }
    t.same(
      await a.knex('jobs').whereIn('status', ['in-progress', 'enqueued', 'dead']).select('name', 'status'),
      [],
      'nothing left running, waiting or dead'
    )
  }
)

t.test('cron schedules ticking on both instances enqueue each fire once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-pg-cron-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new FakeClock(Date.parse('2026-03-01T00:00:30Z'))
  const instances = [
    await buildKronus(t, { dir, clock, database: 'postgres' }),
    await buildKronus(t, { dir, clock, database: 'postgres' })
  ]
  const runs: string[] = []
  for (const kronus of instances) {
    kronus.queue.define('test.instances.cron', async ({ label }) => void runs.push(label))
  }
  await Promise.all(
    instances.map((k) => k.cronSchedules.schedule('test.instances.cron', '* * * * *', { label: 'tick' }, 'UTC'))
  )
  for (let minute = 0; minute < 10; minute++) {
    clock.advance(60_000)
    const fired = await Promise.all(instances.map((k) => k.cronSchedules.tick()))
    t.equal(fired[0]! + fired[1]!, 1, `minute ${minute + 1}: one fire between them`)
    await drainTogether(...instances)
  }
  t.equal(runs.length, 10, 'ten fires, ten runs')
})

t.test('a claim skips a job whose row another claim holds locked, instead of waiting for it', async (t) => {
  const kronus = await buildKronus(t, { database: 'postgres' })
  kronus.queue.define('test.instances.work', async () => undefined)
  const first = await kronus.queue.enqueue('test.instances.work', { n: 1 })
  const second = await kronus.queue.enqueue('test.instances.work', { n: 2 })
  const lockMsByName = new Map([['test.instances.work', 90_000]])
  const trx = await kronus.knex.transaction()
  try {
    // Another worker, mid-claim, holds the oldest job's row.
    await trx('jobs').where({ id: first!.id }).forUpdate().select('id')
    const claimed = await claimDueJobs(kronus.knex, {
      now: kronus.clock.now(),
      workerId: 'other',
      lockMsByName,
      limit: 2
    })
    t.same(
      claimed.map((j) => j.id),
      [second!.id],
      'the locked row is skipped, the next one taken, without waiting'
    )
  } finally {
    await trx.rollback()
  }
  const after = await claimDueJobs(kronus.knex, { now: kronus.clock.now(), workerId: 'other', lockMsByName, limit: 2 })
  t.same(
    after.map((j) => j.id),
    [first!.id],
    'once released, it is claimable again'
  )
})

t.test('jobs of one lane from transactions that commit out of id order never run at the same time', async (t) => {
  const kronus = await buildKronus(t, { database: 'postgres' })
  kronus.queue.define('test.instances.work', async () => undefined)
  const lockMsByName = new Map([['test.instances.work', 90_000]])
  const claim = (workerId: string) =>
    claimDueJobs(kronus.knex, { now: kronus.clock.now(), workerId, lockMsByName, limit: 5 })
  // Two instances record events for one user at once: the first to take an id commits last.
  const slow = await kronus.knex.transaction()
  const earlier = await kronus.queue.enqueue('test.instances.work', { n: 1 }, { lane: 'events:test:7' }, slow)
  const later = await kronus.queue.enqueue('test.instances.work', { n: 2 }, { lane: 'events:test:7' })
  t.ok(earlier!.id < later!.id)
  t.same(
    (await claim('a')).map((j) => j.id),
    [later!.id],
    'the committed job runs'
  )
  await slow.commit()
  t.same(await claim('b'), [], 'the earlier job waits while the lane has a job running, though none before it is live')
  await kronus
    .knex('jobs')
    .where({ id: later!.id })
    .update({ status: 'successful', live_key: null, locked_by: null, lock_expires_at: null })
  t.same(
    (await claim('b')).map((j) => j.id),
    [earlier!.id],
    'and runs once it is done'
  )
})

t.test(
  "a lane that cannot be taken for an error is reported and left enqueued; the claim's other jobs are still its own",
  async (t) => {
    const kronus = await buildKronus(t, { database: 'postgres' })
    kronus.queue.define('test.instances.work', async () => undefined)
    const lockMsByName = new Map([['test.instances.work', 90_000]])
    const laned = await kronus.queue.enqueue('test.instances.work', { n: 1 }, { lane: 'events:test:9' })
    const free = await kronus.queue.enqueue('test.instances.work', { n: 2 })
    // A lane is taken in a transaction of its own: here every such transaction fails to open.
    const refused = new Error('the lane could not be locked')
    const failingLanes = new Proxy(kronus.knex, {
      get: (target, prop, receiver) =>
        prop === 'transaction' ? () => Promise.reject(refused) : Reflect.get(target, prop, receiver)
    })
    const reported: Array<{ id: number; error: unknown }> = []
    const claim = (workerId: string) =>
      claimDueJobs(failingLanes, {
        now: kronus.clock.now(),
        workerId,
        lockMsByName,
        limit: 5,
        onLaneFailure: (job, error) => reported.push({ id: job.id, error })
      })
    t.same(
      (await claim('one')).map((j) => j.id),
      [free!.id],
      'the job without a lane is claimed'
    )
    t.same(reported, [{ id: laned!.id, error: refused }], 'the job whose lane failed is reported with the error')
    t.equal((await kronus.knex('jobs').where({ id: laned!.id }).first()).status, 'enqueued', 'and stays enqueued')
    await t.rejects(claim('two'), refused, 'a claim that took nothing throws the error instead')
    t.equal(reported.length, 1, 'which is not also reported')
    t.same(
      (await claimDueJobs(kronus.knex, { now: kronus.clock.now(), workerId: 'two', lockMsByName, limit: 5 })).map(
        (j) => j.id
      ),
      [laned!.id],
      'the next claim that can take the lane runs the job'
    )
  }
)

t.test('a lane another claim is taking is skipped, not claimed twice', async (t) => {
  const kronus = await buildKronus(t, { database: 'postgres' })
  kronus.queue.define('test.instances.work', async () => undefined)
  const lockMsByName = new Map([['test.instances.work', 90_000]])
  const laned = await kronus.queue.enqueue('test.instances.work', { n: 1 }, { lane: 'events:test:8' })
  const free = await kronus.queue.enqueue('test.instances.work', { n: 2 })
  const rival = await kronus.knex.transaction()
  try {
    // What a rival's claim transaction holds while it takes a job of this lane.
    await rival.raw(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':kronus.lane:' || ?))`, [
      'events:test:8'
    ])
    const claimed = await claimDueJobs(kronus.knex, {
      now: kronus.clock.now(),
      workerId: 'other',
      lockMsByName,
      limit: 5
    })
    t.same(
      claimed.map((j) => j.id),
      [free!.id],
      'the lane is skipped for now'
    )
  } finally {
    await rival.rollback()
  }
  const after = await claimDueJobs(kronus.knex, { now: kronus.clock.now(), workerId: 'other', lockMsByName, limit: 5 })
  t.same(
    after.map((j) => j.id),
    [laned!.id]
  )
})

t.test(
  'a claim of jobs without a lane is one statement, in claim order, and leaves jobs with a lane to take theirs',
  async (t) => {
    const kronus = await buildKronus(t, { database: 'postgres' })
    kronus.queue.define('test.instances.work', async () => undefined)
    const lockMsByName = new Map([['test.instances.work', 90_000]])
    const free = []
    for (let n = 0; n < 3; n++) free.push(await kronus.queue.enqueue('test.instances.work', { n }))
    const urgent = await kronus.queue.enqueue('test.instances.work', { n: 3 }, { priority: 5 })
    const statements: string[] = []
    const seen = (query: { sql: string }) => void statements.push(query.sql)
    kronus.knex.on('query', seen)
    const claimed = await claimDueJobs(kronus.knex, {
      now: kronus.clock.now(),
      workerId: 'one',
      lockMsByName,
      limit: 5
    })
    kronus.knex.off('query', seen)
    t.same(
      claimed.map((j) => j.id),
      [urgent!.id, ...free.map((j) => j!.id)],
      'every job, the urgent one first'
    )
    t.equal(statements.length, 1, 'one round trip: no BEGIN, no COMMIT')
    t.match(claimed[0], { attempts: 1 }, 'the claimed job as it now is: its first attempt')
    t.match(await kronus.knex('jobs').where({ id: urgent!.id }).first(), { status: 'in-progress', locked_by: 'one' })

    const laned = await kronus.queue.enqueue('test.instances.work', { n: 4 }, { lane: 'events:test:9' })
    const next = await kronus.queue.enqueue('test.instances.work', { n: 5 }, { lane: 'events:test:9' })
    const more = await kronus.queue.enqueue('test.instances.work', { n: 6 })
    const second = await claimDueJobs(kronus.knex, { now: kronus.clock.now(), workerId: 'two', lockMsByName, limit: 5 })
    t.same(
      second.map((j) => j.id),
      [laned!.id, more!.id],
      'the first job of the lane and the free one; the lane has one job running at a time'
    )
    t.match(await kronus.knex('jobs').where({ id: next!.id }).first(), { status: 'enqueued', locked_by: null })
  }
)

t.test(
  'a claim of several names reads each name in claim order and stops at what it takes, however many wait',
  async (t) => {
    const kronus = await buildKronus(t, { database: 'postgres' })
    const now = kronus.clock.now()
    // 2,000 deliveries waiting, each first in its own lane, and two other names.
    const waiting = Array.from({ length: 2000 }, (_, i) => ({
      name: 'test.instances.work',
      payload: JSON.stringify({ n: i }),
      status: 'enqueued',
      lane: `events:test:${i}`,
      run_at: now - 1000,
      fair_at: now - 1000 + i,
      max_attempts: 4,
      priority: 0,
      created_at: now,
      updated_at: now
    }))
    for (let i = 0; i < waiting.length; i += 500) await kronus.knex('jobs').insert(waiting.slice(i, i + 500))
    const urgent = await kronus.queue.enqueue('test.instances.cron', { label: 'urgent' }, { priority: 5 })
    await kronus.knex.raw('ANALYZE jobs')
    const lockMsByName = new Map([
      ['test.instances.work', 90_000],
      ['test.instances.cron', 90_000],
      ['test.instances.none', 90_000]
    ])
    // The reads are counted in the claim's own transaction (pg_stat_xact_user_tables), rolled back after.
    const trx = await kronus.knex.transaction()
    try {
      const claimed = await claimDueJobs(trx, { now, workerId: 'one', lockMsByName, limit: 3 })
      const [first, ...others] = claimed
      t.equal(first?.id, urgent!.id, 'the urgent job of one name before the older jobs of another')
      t.same(
        others.map((job) => JSON.parse(job.payload).n),
        [0, 1],
        'then the oldest deliveries, each in its lane'
      )
      const { rows } = await trx.raw(
        `SELECT coalesce(idx_tup_fetch, 0) + seq_tup_read AS read FROM pg_stat_xact_user_tables WHERE relid = 'jobs'::regclass`
      )
      t.ok(Number(rows[0].read) < 100, `rows of jobs read: ${rows[0].read}, not every delivery waiting (4,008 before)`)
    } finally {
      await trx.rollback()
    }
  }
)

t.test('two instances checking on the same minutes announce a condition once, and its end once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-pg-watchdog-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'))
  const instances = [
    await buildKronus(t, { dir, clock, database: 'postgres' }),
    await buildKronus(t, { dir, clock, database: 'postgres' })
  ]
  for (const kronus of instances) {
    kronus.messaging.registerChannel(new RecordingChannel())
    kronus.queue.define('test.instances.work', async () => undefined)
  }
  const admin = await createAdmin(instances[0]!)
  await instances[0]!.queue.enqueue('test.instances.work', { n: 1 })
  const checkTogether = () => Promise.all(instances.map((k) => k.watchdog.check()))
  const announced = async (type: 'kronus.degraded' | 'kronus.recovered') =>
    (await instances[0]!.events.list({ type })).length
  const adminTexts = async () =>
    (await instances[0]!.knex('jobs').where({ name: 'message.send', user_id: admin.id })).length

  clock.advance(QUEUE_BEHIND_MS)
  await checkTogether()
  t.equal(await announced('kronus.degraded'), 0, 'seen by both, on one minute: not yet announced')
  clock.advance(60_000)
  await checkTogether()
  await checkTogether()
  t.equal(await announced('kronus.degraded'), 1, 'announced once between them')
  t.equal(await adminTexts(), 1, 'the admin is texted once')

  await drainTogether(...instances)
  await checkTogether()
  await checkTogether()
  t.equal(await announced('kronus.recovered'), 1, 'its end announced once')
  t.equal(await adminTexts(), 2, 'and texted once')
})
