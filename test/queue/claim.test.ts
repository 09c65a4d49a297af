import t from 'tap'
import { claimDueJobs } from '../../src/queue/claim.js'
import { MAX_LOCK_MS } from '../../src/queue/job-queue.js'
import type { DeadJob } from '../../src/queue/types.js'
import { buildKronus } from '../helpers/app.js'
import { gate, jobRow, queueFor } from './helpers.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.claim.work': { n: number }
    'test.claim.slow': { n: number }
  }
}

const WORK = 'test.claim.work'

t.test('two workers on one database never run the same job', async (t) => {
  const kronus = await buildKronus(t)
  const runs = new Map<number, string[]>()
  const workers = ['worker-a', 'worker-b'].map((workerId) => {
    const queue = queueFor(kronus, { workerId, concurrency: 3 })
    queue.define(WORK, async (payload) => {
      runs.set(payload.n, [...(runs.get(payload.n) ?? []), workerId])
      await new Promise((resolve) => setImmediate(resolve))
    })
    return queue
  })
  for (let n = 0; n < 30; n++) await workers[0]!.enqueue(WORK, { n })

  for (let pass = 0; pass < 30; pass++) {
    const counts = await Promise.all(workers.map((w) => w.runDue()))
    if (counts.every((c) => c === 0)) break
  }
  t.equal(runs.size, 30, 'every job ran')
  t.ok(
    [...runs.values()].every((by) => by.length === 1),
    'each exactly once'
  )
  const by = new Set([...runs.values()].flat())
  t.same([...by].sort(), ['worker-a', 'worker-b'], 'both workers took part')
})

t.test('claims racing for the same candidates: each job goes to exactly one claimer', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  for (let n = 0; n < 10; n++) await queue.enqueue(WORK, { n })
  const lockMsByName = new Map([[WORK, 90_000]])
  const now = kronus.clock.now()
  const [a, b] = await Promise.all(
    ['a', 'b'].map((workerId) => claimDueJobs(kronus.knex, { now, workerId, lockMsByName, limit: 5 }))
  )
  const ids = [...a!, ...b!].map((j) => j.id).sort((x, y) => x - y)
  t.equal(ids.length, 10)
  t.equal(new Set(ids).size, 10, 'no job claimed twice')
  t.ok(a!.length > 0 && b!.length > 0, 'the loser of a race goes on to other candidates')
  for (const job of [...a!, ...b!]) {
    const row = await jobRow(kronus, job.id)
    t.equal(row.locked_by, a!.includes(job) ? 'a' : 'b')
    t.equal(Number(row.lock_expires_at), now + 90_000)
  }
})

t.test("one claim of jobs of several names locks each for its own name's lock time", async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const work = await queue.enqueue(WORK, { n: 1 })
  const slow = await queue.enqueue('test.claim.slow', { n: 2 })
  const now = kronus.clock.now()
  const claimed = await claimDueJobs(kronus.knex, {
    now,
    workerId: 'a',
    lockMsByName: new Map([
      [WORK, 90_000],
      ['test.claim.slow', 200_000]
    ]),
    limit: 5
  })
  t.same(
    claimed.map((j) => j.id).sort((x, y) => x - y),
    [work!.id, slow!.id]
  )
  t.equal(Number((await jobRow(kronus, work!.id)).lock_expires_at), now + 90_000)
  t.equal(Number((await jobRow(kronus, slow!.id)).lock_expires_at), now + 200_000)
  t.match(await jobRow(kronus, slow!.id), { status: 'in-progress', attempts: 1, locked_by: 'a' })
})

t.test('a job held by a worker that died is run again, exactly once, when its lock expires', async (t) => {
  const kronus = await buildKronus(t)
  const survivor = queueFor(kronus, { workerId: 'survivor' })
  const attempts: number[] = []
  // Default timeout (60 s) gives the default lock: 90 s.
  survivor.define(WORK, async (_payload, run) => {
    attempts.push(run.attempt)
  })
  const job = await survivor.enqueue(WORK, { n: 1 })
  const claimedAt = kronus.clock.now()
  // The doomed worker claims the job and is never heard from again.
  const [claimed] = await claimDueJobs(kronus.knex, {
    now: claimedAt,
    workerId: 'doomed',
    lockMsByName: new Map([[WORK, 90_000]]),
    limit: 1
  })
  t.equal(claimed?.id, job!.id)

  t.equal(await survivor.runDue(), 0, 'held while the lock is valid')
  kronus.clock.set(claimedAt + 90_000 - 1)
  t.equal(await survivor.runDue(), 0)
  kronus.clock.set(claimedAt + 90_000)
  t.equal(await survivor.runDue(), 1, 'claimed again as soon as the lock expired: within 2× the lock and 5 minutes')
  t.ok(90_000 <= MAX_LOCK_MS && MAX_LOCK_MS < 5 * 60_000)
  t.same(attempts, [2], 'the lost run counts as an attempt')
  t.match(await jobRow(kronus, job!.id), { status: 'successful', locked_by: null })

  kronus.clock.advance(10 * 60_000)
  await survivor.drain()
  t.same(attempts, [2], 'and it never runs again')
})

t.test('a worker whose claim lapsed cannot overwrite the outcome of the worker that took over', async (t) => {
  const kronus = await buildKronus(t)
  const slow = queueFor(kronus, { workerId: 'slow' })
  const fast = queueFor(kronus, { workerId: 'fast' })
  const slowStarted = gate()
  const slowRelease = gate()
  slow.define(
    WORK,
    async () => {
      slowStarted.open()
      await slowRelease.promise
      throw new Error('the slow worker fails late')
    },
    { timeoutMs: 30_000, lockMs: 60_000 }
  )
  let fastRuns = 0
  fast.define(
    WORK,
    async () => {
      fastRuns++
    },
    { timeoutMs: 30_000, lockMs: 60_000 }
  )

  const job = await slow.enqueue(WORK, { n: 1 })
  const slowPass = slow.runDue()
  await slowStarted.promise
  kronus.clock.advance(60_000)
  t.equal(await fast.runDue(), 1)
  slowRelease.open()
  await slowPass
  t.equal(fastRuns, 1)
  t.match(await jobRow(kronus, job!.id), { status: 'successful', attempts: 2, last_error: null })
})

t.test('a job whose worker died on its last attempt ends dead rather than in-progress for ever', async (t) => {
  const kronus = await buildKronus(t)
  const dead: DeadJob[] = []
  const queue = queueFor(kronus, { onDead: (job) => void dead.push(job) })
  let runs = 0
  queue.define(WORK, async () => {
    runs++
  })
  const job = await queue.enqueue(WORK, { n: 1 }, { maxAttempts: 1 })
  await claimDueJobs(kronus.knex, {
    now: kronus.clock.now(),
    workerId: 'doomed',
    lockMsByName: new Map([[WORK, 90_000]]),
    limit: 1
  })
  kronus.clock.advance(90_000)
  t.equal(await queue.runDue(), 0)
  t.equal(runs, 0)
  t.match(await jobRow(kronus, job!.id), {
    status: 'dead',
    live_key: null,
    locked_by: null,
    last_error: /worker doomed stopped responding during attempt 1 of 1/
  })
  t.equal(dead.length, 1)
  t.equal(dead[0]!.id, job!.id)
})
