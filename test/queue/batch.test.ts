import t from 'tap'
import { JobNotRunError, JobTimeoutError, WorkerStoppingError } from '../../src/queue/errors.js'
import { type BatchJob, PermanentJobError } from '../../src/queue/types.js'
import { buildKronus } from '../helpers/app.js'
import { gate, jobRow, queueFor } from './helpers.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.batch.work': { n: number }
    'test.batch.single': { n: number }
  }
}

const WORK = 'test.batch.work'
const SINGLE = 'test.batch.single'

async function statuses(kronus: { knex: any }): Promise<Record<number, { status: string; attempts: number }>> {
  const rows: Array<{ payload: string; status: string; attempts: number }> = await kronus
    .knex('jobs')
    .where({ name: WORK })
    .select('payload', 'status', 'attempts')
  return Object.fromEntries(
    rows.map((r) => [JSON.parse(r.payload).n, { status: r.status, attempts: Number(r.attempts) }])
  )
}

t.test('a batched name runs its jobs a batch at a time, each once, oldest first', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const batches: number[][] = []
  queue.defineBatch(
    WORK,
    async (jobs) => {
      batches.push(jobs.map((job) => job.payload.n))
      return jobs.map(() => undefined)
    },
    { batchSize: 3 }
  )
  t.equal(
    await queue.enqueueMany(
      WORK,
      [1, 2, 3, 4, 5, 6, 7].map((n) => ({ payload: { n } }))
    ),
    7
  )

  t.equal(await queue.runDue(), 3, 'runDue counts jobs, not batches')
  await queue.drain()
  t.same(batches, [[1, 2, 3], [4, 5, 6], [7]])
  t.same(
    Object.values(await statuses(kronus)).map((s) => s.status),
    Array(7).fill('successful')
  )
  const rows = await kronus.knex('jobs').where({ name: WORK })
  for (const row of rows) t.match(row, { live_key: null, locked_by: null, lock_expires_at: null, attempts: 1 })
})

t.test('each job of a batch ends on its own outcome: success, retry, or dead', async (t) => {
  const kronus = await buildKronus(t)
  const dead: number[] = []
  const q = queueFor(kronus, { onDead: (job) => void dead.push(JSON.parse(job.payload).n) })
  q.defineBatch(
    WORK,
    async (jobs) =>
      jobs.map(({ payload }) =>
        payload.n === 2 ? new Error('try again') : payload.n === 3 ? new PermanentJobError('never') : undefined
      ),
    { batchSize: 10 }
  )
  await q.enqueueMany(
    WORK,
    [1, 2, 3].map((n) => ({ payload: { n } }))
  )
  t.equal(await q.runDue(), 3)
  const after = await statuses(kronus)
  t.same(after[1], { status: 'successful', attempts: 1 })
  t.same(after[2], { status: 'scheduled', attempts: 1 }, 'the failed job waits for its retry')
  t.same(after[3], { status: 'dead', attempts: 1 }, 'a permanent error ends it at once')
  t.same(dead, [3])
  const failed = await kronus.knex('jobs').where({ name: WORK, status: 'scheduled' }).first()
  t.equal(failed.last_error, 'Error: try again')
})

t.test(
  'a batch handler that throws, or answers for the wrong number of jobs, fails every job of the batch',
  async (t) => {
    const kronus = await buildKronus(t)
    const queue = queueFor(kronus)
    let calls = 0
    queue.defineBatch(
      WORK,
      async (jobs) => {
        calls++
        if (calls === 1) throw new Error('database went away')
        return jobs.slice(1).map(() => undefined)
      },
      { batchSize: 10 }
    )
    await queue.enqueueMany(
      WORK,
      [1, 2].map((n) => ({ payload: { n } }))
    )
    await queue.runDue()
    t.same(Object.values(await statuses(kronus)), [
      { status: 'scheduled', attempts: 1 },
      { status: 'scheduled', attempts: 1 }
    ])
    await kronus.knex('jobs').update({ run_at: kronus.clock.now(), status: 'enqueued' })
    await queue.runDue()
    t.same(Object.values(await statuses(kronus)), [
      { status: 'scheduled', attempts: 2 },
      { status: 'scheduled', attempts: 2 }
    ])
    const row = await kronus.knex('jobs').where({ name: WORK }).first()
    t.match(row.last_error, /answered 1 outcomes for 2 jobs/)
  }
)

t.test('a job the batch did not get to goes back to the queue with its attempt given back', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const seen: Array<{ n: number; attempt: number }> = []
  queue.defineBatch(
    WORK,
    async (jobs) => {
      for (const { payload, run } of jobs) seen.push({ n: payload.n, attempt: run.attempt })
      return jobs.map((_job, i) => (i === 0 ? undefined : new JobNotRunError()))
    },
    { batchSize: 10 }
  )
  await queue.enqueueMany(
    WORK,
    [1, 2].map((n) => ({ payload: { n } }))
  )
  await queue.runDue()
  t.same(await statuses(kronus), { 1: { status: 'successful', attempts: 1 }, 2: { status: 'enqueued', attempts: 0 } })
  await queue.runDue()
  t.same(
    seen,
    [
      { n: 1, attempt: 1 },
      { n: 2, attempt: 1 },
      { n: 2, attempt: 1 }
    ],
    'it runs again at once, still on its first attempt'
  )
})

t.test('a job not run goes behind the jobs waiting when its batch says so', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const batches: number[][] = []
  let first = true
  queue.defineBatch(
    WORK,
    async (jobs) => {
      batches.push(jobs.map(({ payload }) => payload.n))
      const behind = first
      first = false
      return jobs.map(({ payload }) =>
        behind && payload.n === 2 ? new JobNotRunError('busy', { behindWaiting: true }) : undefined
      )
    },
    { batchSize: 2 }
  )
  await queue.enqueueMany(
    WORK,
    [1, 2, 3, 4].map((n) => ({ payload: { n } }))
  )
  kronus.clock.advance(1000)
  await queue.drain()
  // Kept in its place, job 2 would have been first in the second batch, beside job 3.
  t.same(batches, [[1, 2], [3, 4], [2]], 'job 2 runs after jobs 3 and 4, which were waiting when it went back')
  t.same(
    Object.values(await statuses(kronus)),
    Array(4).fill({ status: 'successful', attempts: 1 }),
    'job 2 did not spend an attempt when it was not run'
  )
})

t.test('enqueueMany leaves out jobs whose key is live, also inside a transaction', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  queue.defineBatch(WORK, async (jobs) => jobs.map(() => undefined), { batchSize: 10 })
  await queue.enqueue(WORK, { n: 1 }, { key: 'k1' })
  await kronus.knex.transaction(async (trx) => {
    const stored = await queue.enqueueMany(
      WORK,
      [
        { payload: { n: 2 }, options: { key: 'k1' } },
        { payload: { n: 3 }, options: { key: 'k2' } },
        { payload: { n: 4 } }
      ],
      trx
    )
    t.equal(stored, 2)
    t.ok(await queue.enqueue(WORK, { n: 5 }, { key: 'k3' }, trx), 'the transaction is still usable')
  })
  t.same(
    Object.keys(await statuses(kronus))
      .map(Number)
      .sort(),
    [1, 3, 4, 5]
  )
  // Past one statement's rows: every job is stored.
  t.equal(
    await queue.enqueueMany(
      WORK,
      Array.from({ length: 900 }, (_, n) => ({ payload: { n: 100 + n } }))
    ),
    900
  )
})

t.test('a batched job cannot have a lane, and a name is defined once whichever way', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  queue.defineBatch(WORK, async (jobs) => jobs.map(() => undefined), { batchSize: 10 })
  await t.rejects(queue.enqueue(WORK, { n: 1 }, { lane: 'x' }), /run in batches and cannot have a lane/)
  t.throws(() => queue.define(WORK, async () => undefined), /already defined/)
  t.throws(
    () => queue.defineBatch(SINGLE, async (jobs) => jobs.map(() => undefined), { batchSize: 0 }),
    /positive integer/
  )
})

t.test('single jobs keep slots of their own while a batch runs', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 2 })
  const release = gate()
  const batchStarted = gate()
  queue.defineBatch(
    WORK,
    async (jobs) => {
      batchStarted.open()
      await release.promise
      return jobs.map(() => undefined)
    },
    { batchSize: 10 }
  )
  const singles: number[] = []
  queue.define(SINGLE, async ({ n }) => {
    singles.push(n)
  })
  await queue.enqueueMany(
    WORK,
    [1, 2, 3].map((n) => ({ payload: { n } }))
  )
  const single = await queue.enqueue(SINGLE, { n: 9 })
  const pass = queue.runDue()
  await batchStarted.promise
  release.open()
  t.equal(await pass, 4, 'the batch took one slot, the single job the other')
  t.same(singles, [9])
  t.match(await jobRow(kronus, single!.id), { status: 'successful' })
})

t.test('two workers draining the same batched jobs run each exactly once', async (t) => {
  const kronus = await buildKronus(t)
  const runs = new Map<number, number>()
  const handler = async (jobs: Array<BatchJob<{ n: number }>>) => {
    for (const { payload } of jobs) runs.set(payload.n, (runs.get(payload.n) ?? 0) + 1)
    await new Promise((resolve) => setImmediate(resolve))
    return jobs.map(() => undefined)
  }
  const a = queueFor(kronus, { workerId: 'a' })
  const b = queueFor(kronus, { workerId: 'b' })
  a.defineBatch(WORK, handler, { batchSize: 7 })
  b.defineBatch(WORK, handler, { batchSize: 7 })
  await a.enqueueMany(
    WORK,
    Array.from({ length: 60 }, (_, n) => ({ payload: { n } }))
  )
  await Promise.all([a.drain(), b.drain()])
  t.equal(runs.size, 60)
  t.same([...new Set(runs.values())], [1], 'no job ran twice')
})

t.test('a batch past its timeout is told through its signal and answers for what it did', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  let reason: unknown
  queue.defineBatch(
    WORK,
    async (jobs, signal) => {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      reason = signal.reason
      return jobs.map((_job, i) => (i === 0 ? undefined : new JobNotRunError()))
    },
    { batchSize: 10, timeoutMs: 20, lockMs: 60_000 }
  )
  await queue.enqueueMany(
    WORK,
    [1, 2].map((n) => ({ payload: { n } }))
  )
  t.equal(await queue.runDue(), 2)
  t.type(reason, JobTimeoutError)
  t.same(await statuses(kronus), { 1: { status: 'successful', attempts: 1 }, 2: { status: 'enqueued', attempts: 0 } })
})

t.test('stopping the worker mid-batch keeps what the batch finished and puts the rest back', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const started = gate()
  let reason: unknown
  queue.defineBatch(
    WORK,
    async (jobs, signal) => {
      started.open()
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      reason = signal.reason
      return jobs.map((_job, i) => (i === 0 ? undefined : signal.reason))
    },
    { batchSize: 10 }
  )
  await queue.enqueueMany(
    WORK,
    [1, 2, 3].map((n) => ({ payload: { n } }))
  )
  const pass = queue.runDue()
  await started.promise
  await queue.stop(10)
  t.equal(await pass, 3)
  t.type(reason, WorkerStoppingError)
  t.same(await statuses(kronus), {
    1: { status: 'successful', attempts: 1 },
    2: { status: 'enqueued', attempts: 0 },
    3: { status: 'enqueued', attempts: 0 }
  })
})

t.test(
  'batched jobs of a worker that died run again once their lock has expired, the lost attempt counted',
  async (t) => {
    const kronus = await buildKronus(t)
    const lost = queueFor(kronus, { workerId: 'lost' })
    lost.defineBatch(WORK, async (jobs) => jobs.map(() => undefined), { batchSize: 10 })
    await lost.enqueueMany(
      WORK,
      [1, 2].map((n) => ({ payload: { n } }))
    )
    // As a claim leaves them when the worker is killed before its batch ends.
    const now = kronus.clock.now()
    await kronus
      .knex('jobs')
      .where({ name: WORK })
      .update({ status: 'in-progress', attempts: 1, locked_by: 'lost', locked_at: now, lock_expires_at: now + 60_000 })

    const heir = queueFor(kronus, { workerId: 'heir' })
    const attempts: number[] = []
    heir.defineBatch(
      WORK,
      async (jobs) => {
        for (const { run } of jobs) attempts.push(run.attempt)
        return jobs.map(() => undefined)
      },
      { batchSize: 10 }
    )
    t.equal(await heir.runDue(), 0, 'not while the lock holds')
    kronus.clock.advance(60_000)
    t.equal(await heir.runDue(), 2)
    t.same(attempts, [2, 2])
    t.same(await statuses(kronus), {
      1: { status: 'successful', attempts: 2 },
      2: { status: 'successful', attempts: 2 }
    })
  }
)

t.test('jobs a batch ends early stay ended, whatever happens to the rest of the batch', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  queue.defineBatch(
    WORK,
    async (jobs, _signal, control) => {
      // The first job's effect and its end are written together, as a sent text and its record are.
      await kronus.knex.transaction(async (trx) => {
        await trx('events').insert({
          type: 'test.effect',
          user_id: null,
          payload: '{}',
          created_at: kronus.clock.now()
        })
        await control.complete([0], trx)
      })
      t.equal((await jobRow(kronus, jobs[0]!.run.id)).status, 'successful', 'ended at once, not when the batch ends')
      // A rolled-back completion ends nothing.
      await t.rejects(
        kronus.knex.transaction(async (trx) => {
          await control.complete([1], trx)
          throw new Error('rolled back')
        })
      )
      // The batch then gets to none of the rest (no time budget here: a 20 ms one ran out mid-transaction on a busy machine).
      return jobs.map(() => new JobNotRunError())
    },
    { batchSize: 10 }
  )
  await queue.enqueueMany(
    WORK,
    [1, 2, 3].map((n) => ({ payload: { n } }))
  )
  t.equal(await queue.runDue(), 3)
  t.same(
    await statuses(kronus),
    {
      1: { status: 'successful', attempts: 1 },
      2: { status: 'enqueued', attempts: 0 },
      3: { status: 'enqueued', attempts: 0 }
    },
    'the answer for the ended job is ignored; the others go back'
  )
})

t.test('batches leave a slot for single jobs, and several batches of one name run side by side', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 3 })
  const release = gate()
  let running = 0
  let most = 0
  queue.defineBatch(
    WORK,
    async (jobs) => {
      running++
      most = Math.max(most, running)
      await release.promise
      running--
      return jobs.map(() => undefined)
    },
    { batchSize: 2 }
  )
  const singles: number[] = []
  queue.define(SINGLE, async ({ n }) => {
    singles.push(n)
  })
  await queue.enqueueMany(
    WORK,
    [1, 2, 3, 4, 5, 6].map((n) => ({ payload: { n } }))
  )
  await queue.enqueue(SINGLE, { n: 1 })
  const first = queue.runDue()
  await new Promise((resolve) => setImmediate(resolve))
  while (running < 1) await new Promise((resolve) => setImmediate(resolve))
  const second = queue.runDue()
  while (running < 2) await new Promise((resolve) => setImmediate(resolve))
  const third = queue.runDue()
  t.equal(await third, 0, 'with two batches running, the last slot is kept for single jobs: no third batch')
  release.open()
  t.equal((await first) + (await second), 5, 'a batch and the single job, then a second batch')
  t.equal(most, 2, 'two batches at once: all slots but one')
  t.same(singles, [1], 'the single job had its slot')
  await queue.drain()
  t.same(
    Object.values(await statuses(kronus)).map((s) => s.status),
    Array(6).fill('successful')
  )
})
