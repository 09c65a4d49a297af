import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { FakeClock } from '../../src/clock.js'
import { isPostgres } from '../../src/db/knex.js'
import { DEFAULT_SCHEDULER_BATCH_SIZE, ProbeScheduler } from '../../src/scheduling/probe-scheduler.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { nextFireAt, probeFires, scheduledUser } from './helpers.js'

const MINUTE = 60_000
const at = (iso: string) => Date.parse(iso)

/** A scheduler of its own on the Kronus's database, with its log lines captured. */
function schedulerFor(kronus: TestKronus, options: { graceMinutes?: number; batchSize?: number } = {}) {
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const scheduler = new ProbeScheduler({
    knex: kronus.knex,
    clock: kronus.clock,
    logger,
    queue: kronus.queue,
    defaultTimeZone: kronus.config.kronus.cron.timeZone,
    missedFireGraceMinutes: options.graceMinutes ?? 60,
    batchSize: options.batchSize
  })
  return { scheduler, logs }
}

/** Ticks every `stepMs` from the clock's time until `untilIso`, as the running scheduler would. */
async function runUntil(kronus: TestKronus, untilIso: string, stepMs: number): Promise<void> {
  const until = at(untilIso)
  while (kronus.clock.now() < until) {
    kronus.clock.advance(stepMs)
    await kronus.scheduler.tick()
  }
}

t.test('a cron in America/Toronto fires exactly once per intended local time across both DST changes', async (t) => {
  const clock = new FakeClock('2026-03-01T12:00:00Z')
  const kronus = await buildKronus(t, { clock, config: { kronus: { cron: { timeZone: 'America/Toronto' } } } })
  // One user on the configured zone, one with the zone set on their own settings.
  const twoThirty = await scheduledUser(kronus, { cron: '30 2 * * *' })
  const oneThirty = await scheduledUser(kronus, { cron: '30 1 * * *', timeZone: 'America/Toronto' })

  // Spring forward, 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00Z); 02:30 does not exist that day.
  await runUntil(kronus, '2026-03-12T12:00:00Z', 7 * MINUTE)
  const firesOf = (userId: number) =>
    probeFires(kronus.knex, userId).then((fires) => fires.map((f) => new Date(f.fireAt).toISOString()))
  t.same(await firesOf(twoThirty), [
    '2026-03-02T07:30:00.000Z',
    '2026-03-03T07:30:00.000Z',
    '2026-03-04T07:30:00.000Z',
    '2026-03-05T07:30:00.000Z',
    '2026-03-06T07:30:00.000Z',
    '2026-03-07T07:30:00.000Z',
    '2026-03-08T07:00:00.000Z', // the skipped 02:30 fires once, at 03:00 EDT
    '2026-03-09T06:30:00.000Z',
    '2026-03-10T06:30:00.000Z',
    '2026-03-11T06:30:00.000Z',
    '2026-03-12T06:30:00.000Z'
  ])
  t.same(await firesOf(oneThirty), [
    '2026-03-02T06:30:00.000Z',
    '2026-03-03T06:30:00.000Z',
    '2026-03-04T06:30:00.000Z',
    '2026-03-05T06:30:00.000Z',
    '2026-03-06T06:30:00.000Z',
    '2026-03-07T06:30:00.000Z',
    '2026-03-08T06:30:00.000Z',
    '2026-03-09T05:30:00.000Z',
    '2026-03-10T05:30:00.000Z',
    '2026-03-11T05:30:00.000Z',
    '2026-03-12T05:30:00.000Z'
  ])

  // Fall back, 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00Z); 01:30 happens twice.
  await kronus.knex('jobs').delete()
  // Months later (the stale fire is skipped as too old, and the schedule moves on).
  kronus.clock.set('2026-10-28T12:00:00Z')
  await runUntil(kronus, '2026-11-04T12:00:00Z', 7 * MINUTE)
  t.same(await firesOf(oneThirty), [
    '2026-10-29T05:30:00.000Z',
    '2026-10-30T05:30:00.000Z',
    '2026-10-31T05:30:00.000Z',
    '2026-11-01T05:30:00.000Z', // the repeated 01:30 fires once, at its first occurrence
    '2026-11-02T06:30:00.000Z',
    '2026-11-03T06:30:00.000Z',
    '2026-11-04T06:30:00.000Z'
  ])
  t.same(await firesOf(twoThirty), [
    '2026-10-29T06:30:00.000Z',
    '2026-10-30T06:30:00.000Z',
    '2026-10-31T06:30:00.000Z',
    '2026-11-01T07:30:00.000Z',
    '2026-11-02T07:30:00.000Z',
    '2026-11-03T07:30:00.000Z',
    '2026-11-04T07:30:00.000Z'
  ])
})

t.test("a user's own time zone overrides the configured one", async (t) => {
  const kronus = await buildKronus(t, { clock: new FakeClock('2026-01-05T12:00:00Z') })
  const tokyo = await scheduledUser(kronus, { cron: '0 9 * * *', timeZone: 'Asia/Tokyo' })
  const utc = await scheduledUser(kronus, { cron: '0 9 * * *' })
  await runUntil(kronus, '2026-01-06T12:00:00Z', 5 * MINUTE)
  t.same(
    (await probeFires(kronus.knex, tokyo)).map((f) => f.fireAt),
    [at('2026-01-06T00:00:00Z')]
  )
  t.same(
    (await probeFires(kronus.knex, utc)).map((f) => f.fireAt),
    [at('2026-01-06T09:00:00Z')]
  )
})

t.test('a probe.fire job carries the user and fire time, under the key (user, fire time)', async (t) => {
  const kronus = await buildKronus(t)
  const userId = await scheduledUser(kronus, { cron: '0 18 * * *' })
  kronus.clock.set('2026-01-05T18:00:00Z')
  t.equal(await kronus.scheduler.tick(), 1)
  const row = await kronus.knex('jobs').where({ name: 'probe.fire' }).first()
  t.same(JSON.parse(row.payload), { userId, fireAt: at('2026-01-05T18:00:00Z') })
  t.equal(row.job_key, `probe.fire:${userId}:${at('2026-01-05T18:00:00Z')}`)
  t.equal(Number(row.user_id), userId)
  t.equal(await nextFireAt(kronus.knex, userId), at('2026-01-06T18:00:00Z'))
  t.equal(await kronus.scheduler.tick(), 0, 'a second tick finds nothing due')
})

t.test('a fire missed by less than the grace is sent once when the server comes back', async (t) => {
  const kronus = await buildKronus(t)
  const userId = await scheduledUser(kronus, { cron: '0 18 * * *' })
  const { scheduler } = schedulerFor(kronus)
  kronus.clock.set('2026-01-05T18:40:00Z')
  t.equal(await scheduler.tick(), 1)
  t.same(await probeFires(kronus.knex, userId), [{ userId, fireAt: at('2026-01-05T18:00:00Z') }])
  t.equal(await nextFireAt(kronus.knex, userId), at('2026-01-06T18:00:00Z'))
})

t.test('a fire missed by more than the grace is skipped and logged', async (t) => {
  const kronus = await buildKronus(t)
  const userId = await scheduledUser(kronus, { cron: '0 18 * * *' })
  const { scheduler, logs } = schedulerFor(kronus, { graceMinutes: 60 })
  kronus.clock.set('2026-01-05T19:00:01Z')
  t.equal(await scheduler.tick(), 0)
  t.same(await probeFires(kronus.knex, userId), [])
  t.equal(await nextFireAt(kronus.knex, userId), at('2026-01-06T18:00:00Z'), 'the schedule goes on')
  const warning = logs.find((l) => l.level === 40)
  t.match(warning, { userId, fireAt: '2026-01-05T18:00:00.000Z', msg: /older than the grace period/ })
})

t.test('a down time spanning several fires sends exactly one probe, never a burst', async (t) => {
  // A schedule every 10 minutes, as one stored before limits.minCheckInIntervalMinutes was 60.
  const kronus = await buildKronus(t, { config: { limits: { minCheckInIntervalMinutes: 10 } } })
  const every10 = await scheduledUser(kronus, { cron: '*/10 * * * *' })
  const hourly = await scheduledUser(kronus, { cron: '0 * * * *' })
  kronus.clock.set('2026-01-09T14:05:00Z') // four days later
  t.equal(await kronus.scheduler.tick(), 2)
  t.same(await probeFires(kronus.knex, every10), [{ userId: every10, fireAt: at('2026-01-09T14:00:00Z') }])
  t.same(await probeFires(kronus.knex, hourly), [{ userId: hourly, fireAt: at('2026-01-09T14:00:00Z') }])
  t.equal(await nextFireAt(kronus.knex, every10), at('2026-01-09T14:10:00Z'))
  t.equal(await nextFireAt(kronus.knex, hourly), at('2026-01-09T15:00:00Z'))
})

t.test('start-up goes through the same tick: a restart after a missed fire sends it once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-sched-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new FakeClock('2026-01-05T12:00:00Z')
  const first = await buildKronus(t, { dir, clock })
  const userId = await scheduledUser(first, { cron: '0 18 * * *' })
  await first.stop()

  clock.set('2026-01-05T18:25:00Z')
  const second = await buildKronus(t, { dir, clock })
  await second.start()
  // The first tick runs at start; stopping waits for it.
  await second.scheduler.stop()
  t.same(await probeFires(second.knex, userId), [{ userId, fireAt: at('2026-01-05T18:00:00Z') }])
  t.equal(await second.scheduler.tick(), 0)
  await second.stop()
})

t.test('changing the cron or turning probes off takes effect at once', async (t) => {
  const kronus = await buildKronus(t) // 2026-01-05T12:00Z
  const userId = await scheduledUser(kronus, { cron: '0 18 * * *' })
  await kronus.services.probeSettings.update(userId, { cron_expression: '0 13 * * *' })
  t.equal(await nextFireAt(kronus.knex, userId), at('2026-01-05T13:00:00Z'))
  await runUntil(kronus, '2026-01-05T19:00:00Z', 5 * MINUTE)
  t.same(
    await probeFires(kronus.knex, userId),
    [{ userId, fireAt: at('2026-01-05T13:00:00Z') }],
    'the old 18:00 never fires'
  )

  await kronus.services.probeSettings.update(userId, { active: false })
  t.equal(await nextFireAt(kronus.knex, userId), null)
  await runUntil(kronus, '2026-01-06T14:00:00Z', 5 * MINUTE)
  t.equal((await probeFires(kronus.knex, userId)).length, 1, 'nothing while off')

  await kronus.services.probeSettings.update(userId, { active: true })
  t.equal(
    await nextFireAt(kronus.knex, userId),
    at('2026-01-07T13:00:00Z'),
    'turning on again does not send the fire that passed while off'
  )
  await runUntil(kronus, '2026-01-07T13:05:00Z', 5 * MINUTE)
  t.same(
    (await probeFires(kronus.knex, userId)).map((f) => f.fireAt),
    [at('2026-01-05T13:00:00Z'), at('2026-01-07T13:00:00Z')]
  )
})

t.test('deleting a user removes their schedule and their waiting jobs', async (t) => {
  const kronus = await buildKronus(t)
  await scheduledUser(kronus, { cron: '0 6 * * *' }) // the admin, who stays
  const userId = await scheduledUser(kronus, { cron: '0 18 * * *' })
  kronus.clock.set('2026-01-05T18:00:00Z')
  t.equal(await kronus.scheduler.tick(), 1)
  t.equal((await probeFires(kronus.knex, userId)).length, 1)

  await kronus.services.users.delete(userId)
  t.equal((await probeFires(kronus.knex, userId)).length, 0, 'the waiting probe.fire is gone')
  t.equal(await kronus.knex('probe_settings').where({ user_id: userId }).first(), undefined)
  kronus.clock.set('2026-01-06T18:30:00Z')
  await kronus.scheduler.tick()
  t.equal((await probeFires(kronus.knex, userId)).length, 0, 'and nothing fires for them again')
})

t.test('two schedulers ticking at once enqueue each fire once', async (t) => {
  const kronus = await buildKronus(t)
  const users = [
    await scheduledUser(kronus, { cron: '0 18 * * *' }),
    await scheduledUser(kronus, { cron: '0 18 * * *' })
  ]
  const a = schedulerFor(kronus).scheduler
  const b = schedulerFor(kronus).scheduler
  kronus.clock.set('2026-01-05T18:00:30Z')
  const [fromA, fromB] = await Promise.all([a.tick(), b.tick()])
  t.equal(fromA + fromB, 2)
  for (const userId of users) t.equal((await probeFires(kronus.knex, userId)).length, 1)
})

t.test('one tick handles everything due, batch after batch', async (t) => {
  const kronus = await buildKronus(t)
  const users: number[] = []
  for (let i = 0; i < 5; i++) users.push(await scheduledUser(kronus, { cron: '0 18 * * *' }))
  const { scheduler } = schedulerFor(kronus, { batchSize: 2 })
  kronus.clock.set('2026-01-05T18:00:00Z')
  t.equal(await scheduler.tick(), 5)
  t.equal((await probeFires(kronus.knex)).length, 5)
})

t.test('a tick with nothing due costs one indexed query, however many users there are', async (t) => {
  const kronus = await buildKronus(t)
  await scheduledUser(kronus, { cron: '0 18 * * *' })
  // Many more schedules, written directly: only their count matters here.
  const now = kronus.clock.now()
  for (let i = 0; i < 200; i++) {
    const [row] = await kronus
      .knex('users')
      .insert({
        first_name: 'bulk',
        last_name: `${i}`,
        email: `bulk${i}@example.com`,
        phone_number: `+1999${String(i).padStart(7, '0')}`,
        password_hash: 'x',
        role_id: 2,
        created_at: now,
        updated_at: now
      })
      .returning('id')
    const id = typeof row === 'object' ? row.id : row
    await kronus.knex('probe_settings').insert({
      user_id: id,
      active: true,
      cron_expression: '0 18 * * *',
      max_retries: 3,
      wait_time_in_minutes: 60,
      next_fire_at: at('2026-01-05T18:00:00Z') + i * MINUTE,
      created_at: now,
      updated_at: now
    })
  }
  const queries: string[] = []
  const listen = (q: { sql: string }) => void queries.push(q.sql)
  kronus.knex.on('query', listen)
  t.equal(await kronus.scheduler.tick(), 0)
  kronus.knex.off('query', listen)
  t.equal(queries.length, 1)
  t.match(queries[0], /next_fire_at/)
  const bindings = [at('2026-01-05T12:00:00Z'), true, DEFAULT_SCHEDULER_BATCH_SIZE]
  if (isPostgres(kronus.knex)) {
    // PostgreSQL's planner may scan a table this small; with scans off it shows the index applies.
    const plan = await kronus.knex.transaction(async (trx): Promise<{ rows: unknown[] }> => {
      await trx.raw('SET LOCAL enable_seqscan = off')
      return await trx.raw(`EXPLAIN ${queries[0]!.replace(/\$\d+/g, '?')}`, bindings)
    })
    t.match(
      JSON.stringify(plan.rows),
      /Index Scan (using|on) probe_settings_next_fire_at_index/,
      'PostgreSQL can read the next_fire_at index'
    )
  } else {
    const plan = await kronus.knex.raw(`EXPLAIN QUERY PLAN ${queries[0]}`, bindings)
    t.match(
      JSON.stringify(plan),
      /USING INDEX probe_settings_next_fire_at_index/,
      'SQLite reads the next_fire_at index, not the table'
    )
  }
})

t.test('a started scheduler fires a schedule the moment its minute comes, and asks nothing in between', async (t) => {
  const kronus = await buildKronus(t) // 2026-01-05T12:00Z
  const userId = await scheduledUser(kronus, { cron: '1 12 * * *' })
  t.equal(await nextFireAt(kronus.knex, userId), at('2026-01-05T12:01:00Z'))
  // A clock that runs with real time, from 300 ms before the fire.
  const startedAt = Date.now()
  const clock = { now: () => at('2026-01-05T12:00:59.700Z') + (Date.now() - startedAt) }
  const queries: string[] = []
  const listen = (q: { sql: string }) => void queries.push(q.sql)
  kronus.knex.on('query', listen)
  t.teardown(() => kronus.knex.off('query', listen))
  const scheduler = new ProbeScheduler({
    knex: kronus.knex,
    clock,
    logger: pino({ level: 'silent' }),
    queue: kronus.queue,
    defaultTimeZone: 'UTC',
    missedFireGraceMinutes: 60
  })
  t.teardown(() => scheduler.stop())
  scheduler.start()
  // A hang guard, not a time limit: a scheduler polling every interval from start would wait a whole minute.
  const giveUpAt = Date.now() + 20_000
  while ((await probeFires(kronus.knex, userId)).length === 0 && Date.now() < giveUpAt)
    await new Promise((resolve) => setTimeout(resolve, 20))
  await scheduler.stop()
  kronus.knex.off('query', listen)
  t.same(await probeFires(kronus.knex, userId), [{ userId, fireAt: at('2026-01-05T12:01:00Z') }], 'fired at its minute')
  const reads = queries.filter((sql) => /from .probe_settings./.test(sql) && /^select/i.test(sql))
  // One at start and one at the minute, and one more when a timer wakes a moment before the clock says.
  t.ok(reads.length >= 2 && reads.length <= 3, `no polling in between: ${reads.length} reads`)
})
