import t from 'tap'
import { RETRY_UNTIL_MAX_DELAY_MS } from '../../src/queue/backoff.js'
import { FAIR_SPACING_MS } from '../../src/queue/job-queue.js'
import { buildKronus } from '../helpers/app.js'
import { gate, queueFor } from './helpers.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.prio.single': { n: number }
    'test.prio.batch': { n: number; user?: number }
    'test.prio.slow': { n: number }
  }
}

const SINGLE = 'test.prio.single'
const BATCH = 'test.prio.batch'
const SLOW = 'test.prio.slow'

t.test('single jobs are claimed higher priority first, then oldest, then by id', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 1 })
  const ran: number[] = []
  queue.define(SINGLE, async ({ n }) => {
    ran.push(n)
  })
  const now = kronus.clock.now()
  await queue.enqueue(SINGLE, { n: 1 }, { runAt: now - 3000 })
  await queue.enqueue(SINGLE, { n: 2 }, { runAt: now - 2000, priority: 5 })
  await queue.enqueue(SINGLE, { n: 3 }, { runAt: now - 1000, priority: 10 })
  await queue.enqueue(SINGLE, { n: 4 }, { runAt: now - 4000 })
  await queue.enqueue(SINGLE, { n: 5 }, { priority: 10 })
  await queue.drain()
  t.same(ran, [3, 5, 2, 4, 1])
})

t.test('a priority job is claimed ahead of 10,000 due jobs of its name and 1,000 of another', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 2 })
  const batches: Array<Array<{ n: number }>> = []
  queue.defineBatch(
    BATCH,
    async (jobs) => {
      batches.push(jobs.map((j) => j.payload))
      return jobs.map(() => undefined)
    },
    { batchSize: 100 }
  )
  const singles: number[] = []
  queue.define(SINGLE, async ({ n }) => {
    singles.push(n)
  })
  await queue.enqueueMany(
    BATCH,
    Array.from({ length: 10_000 }, (_, n) => ({ payload: { n } }))
  )
  await queue.enqueueMany(
    SINGLE,
    Array.from({ length: 1000 }, (_, n) => ({ payload: { n } }))
  )
  await queue.enqueue(BATCH, { n: -1 }, { priority: 10 })
  await queue.enqueue(SINGLE, { n: -1 }, { priority: 10 })
  t.equal(await queue.runDue(), 101, 'one batch and one single job in the first pass')
  t.equal(batches[0]![0]!.n, -1, 'the priority job leads the first batch')
  t.same(
    batches[0]!.slice(1).map((p) => p.n),
    Array.from({ length: 99 }, (_, n) => n),
    'then the oldest'
  )
  t.same(singles, [-1], 'the priority single job is the first single job claimed')
})

t.test('urgent jobs run in slots of their own while every shared slot is busy', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 1, urgentSlots: 1 })
  const held = gate()
  const holding = gate()
  const ran: Array<{ n: number; priority: boolean }> = []
  queue.defineBatch(
    BATCH,
    async (jobs) => {
      for (const job of jobs) ran.push({ n: job.payload.n, priority: job.payload.n < 0 })
      if (jobs.some((job) => job.payload.n === 0)) {
        holding.open()
        await held.promise
      }
      return jobs.map(() => undefined)
    },
    { batchSize: 10 }
  )
  await queue.enqueueMany(
    BATCH,
    Array.from({ length: 30 }, (_, n) => ({ payload: { n } }))
  )
  // The one shared slot takes a batch of normal jobs, which hangs.
  const first = queue.runDue()
  await holding.promise
  // Claim passes are serialised: this one runs after the first pass has finished claiming,
  // so the priority jobs below cannot be taken by it (its urgent claim saw none).
  t.equal(await queue.runDue(), 0, 'while the shared slot is busy, no normal job starts')
  await queue.enqueue(BATCH, { n: -1 }, { priority: 10 })
  await queue.enqueue(BATCH, { n: -2 }, { priority: 10 })
  t.equal(await queue.runDue(), 2, 'the urgent slot takes both priority jobs, and only those')
  t.same(
    ran.filter((r) => r.priority).map((r) => r.n),
    [-1, -2]
  )
  t.equal(ran.filter((r) => !r.priority).length, 10, 'no other normal batch started')
  held.open()
  await first
  await queue.drain()
  t.equal(ran.length, 32)
})

t.test('a name with workers of its own never takes a shared slot, nor holds other work', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 1, urgentSlots: 0 })
  const held = gate()
  let slowRunning = 0
  let slowMost = 0
  queue.define(
    SLOW,
    async () => {
      slowRunning++
      slowMost = Math.max(slowMost, slowRunning)
      await held.promise
      slowRunning--
    },
    { ownConcurrency: 2 }
  )
  const singles: number[] = []
  queue.define(SINGLE, async ({ n }) => {
    singles.push(n)
  })
  await queue.enqueueMany(
    SLOW,
    Array.from({ length: 20 }, (_, n) => ({ payload: { n } }))
  )
  await queue.enqueueMany(
    SINGLE,
    Array.from({ length: 5 }, (_, n) => ({ payload: { n } }))
  )
  const hanging = queue.runDue()
  await new Promise((resolve) => setImmediate(resolve))
  // Slow jobs hang in their own two workers; the shared slot runs the others one by one.
  for (let pass = 0; pass < 10 && singles.length < 5; pass++) await queue.runDue()
  t.same(singles, [0, 1, 2, 3, 4], 'every other job ran while the slow ones hung')
  t.equal(slowMost, 2, 'the slow name never ran more than its own workers at once')
  held.open()
  await hanging
  await queue.drain()
  t.equal(slowMost, 2)
  const done = await kronus.knex('jobs').where({ name: SLOW, status: 'successful' }).count({ n: '*' })
  t.equal(Number(done[0]!.n), 20)
})

t.test('ownConcurrency is for single jobs', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  t.throws(
    () => queue.defineBatch(BATCH, async (jobs) => jobs.map(() => undefined), { batchSize: 2, ownConcurrency: 1 }),
    /ownConcurrency/
  )
})

t.test("a fair name takes users' jobs in turn: one user's many jobs do not hold back another's", async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 2 })
  const batches: Array<Array<{ n: number; user?: number }>> = []
  queue.defineBatch(
    BATCH,
    async (jobs) => {
      batches.push(jobs.map((j) => j.payload))
      return jobs.map(() => undefined)
    },
    { batchSize: 100, fairAcrossUsers: true }
  )
  await queue.enqueueMany(
    BATCH,
    Array.from({ length: 500 }, (_, n) => ({ payload: { n, user: 1 }, options: { userId: 1, priority: 10 } }))
  )
  kronus.clock.advance(10 * FAIR_SPACING_MS)
  await queue.enqueue(BATCH, { n: 1000, user: 2 }, { userId: 2, priority: 10 })
  await queue.enqueue(BATCH, { n: 1001, user: 2 }, { userId: 2, priority: 10 })
  await queue.enqueue(BATCH, { n: 2000 }, { priority: 10 })
  await queue.runDue()
  const first = batches[0]!
  t.equal(first.length, 100)
  const at = (n: number) => first.findIndex((p) => p.n === n)
  // User 1's jobs are placed a second apart from the start; what came 10 s later goes
  // after user 1's first 11, and user 2's second a turn after its first.
  t.equal(at(1000), 11, "user 2's first job is in the first batch, near its start")
  t.equal(at(2000), 12, 'so is a job about no user that came with it')
  t.equal(at(1001), 14, "and user 2's second, one turn later")
  t.same(
    first.filter((p) => p.user === 1).map((p) => p.n),
    Array.from({ length: 97 }, (_, n) => n),
    "user 1's jobs keep their order"
  )
  await queue.drain()
  t.equal(batches.flat().length, 503)
})

t.test('a job retried until a deadline outlasts maxAttempts, with backoff of at most a minute', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const tries: number[] = []
  const dead: number[] = []
  queue.onDead((job) => {
    dead.push(job.id)
  })
  queue.define(
    SINGLE,
    async () => {
      tries.push(kronus.clock.now())
      throw new Error('provider answered 503')
    },
    { maxAttempts: 4 }
  )
  const enqueuedAt = kronus.clock.now()
  const job = (await queue.enqueue(SINGLE, { n: 1 }, { retryForMs: 30 * 60_000 }))!
  await queue.drain()
  for (let step = 0; step < 200 && dead.length === 0; step++) {
    const next = await kronus.knex('jobs').where({ id: job.id, status: 'scheduled' }).first('run_at')
    if (!next) break
    kronus.clock.set(Math.max(kronus.clock.now(), Number(next.run_at)))
    await queue.drain()
  }
  t.same(dead, [job.id], 'dead in the end')
  const last = tries.at(-1)!
  t.ok(last - enqueuedAt >= 30 * 60_000, `tried until 30 minutes had passed (${(last - enqueuedAt) / 60_000} min)`)
  t.ok(tries.length > 4, `${tries.length} tries, beyond maxAttempts`)
  const gaps = tries.slice(1).map((at, i) => at - tries[i]!)
  t.ok(
    gaps.every((gap) => gap <= RETRY_UNTIL_MAX_DELAY_MS),
    'never more than a minute between tries'
  )
  t.ok(gaps[0]! < gaps[3]!, 'with backoff: the first retries come sooner')
  const tryBeforeDeadline = tries.filter((at) => at - enqueuedAt < 30 * 60_000).length
  t.equal(tries.length - tryBeforeDeadline, 1, 'one try at or after the deadline, which ends it')
})

t.test('a job retried until a deadline is claimed again after its worker vanished, past maxAttempts', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { lockMarginMs: 1000 })
  let runs = 0
  queue.define(
    SINGLE,
    async () => {
      runs++
    },
    { maxAttempts: 1, timeoutMs: 1000 }
  )
  const job = (await queue.enqueue(SINGLE, { n: 1 }, { retryForMs: 30 * 60_000 }))!
  const now = kronus.clock.now()
  // A worker took its only attempt and died.
  await kronus
    .knex('jobs')
    .where({ id: job.id })
    .update({ status: 'in-progress', attempts: 1, locked_by: 'gone', locked_at: now, lock_expires_at: now + 2000 })
  kronus.clock.advance(5000)
  await queue.drain()
  t.equal(runs, 1, 'run again, not buried')
  t.equal((await kronus.knex('jobs').where({ id: job.id }).first()).status, 'successful')
})

t.test('bad priorities and deadlines are refused', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  queue.define(SINGLE, async () => {})
  await t.rejects(queue.enqueue(SINGLE, { n: 1 }, { priority: 1.5 }), /priority/)
  await t.rejects(queue.enqueue(SINGLE, { n: 1 }, { retryForMs: -1 }), /retryForMs/)
})
