import t from 'tap'
import { claimBatch } from '../../src/queue/claim.js'
import type { BatchJob } from '../../src/queue/types.js'
import { buildKronus } from '../helpers/app.js'
import { onPostgres } from '../helpers/db.js'
import { queueFor } from './helpers.js'

/*
 * A batched name whose jobs have lanes (durable event deliveries: one lane per subscriber
 * and user). A batch runs many lanes at once, but a lane still runs one job at a time, in
 * the order its jobs were enqueued, on one worker or several.
 */

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.laned.work': { lane: string | null; n: number }
  }
}

const WORK = 'test.laned.work'

/** Jobs from a spec such as 'a1 a2 -3': lane a's jobs 1 and 2, then job 3 in no lane. */
function jobs(spec: string) {
  return spec.split(' ').map((job) => {
    const lane = job[0] === '-' ? null : job[0]!
    return { payload: { lane, n: Number(job.slice(1)) }, options: lane === null ? {} : { lane } }
  })
}

t.test('a batch takes the first job of each lane; the next of a lane waits for the batch after', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 1 })
  const batches: string[][] = []
  queue.defineBatch(
    WORK,
    async (batch) => {
      batches.push(batch.map(({ payload }) => `${payload.lane ?? '-'}${payload.n}`))
      return batch.map(() => undefined)
    },
    { batchSize: 10, lanes: true }
  )
  await queue.enqueueMany(WORK, jobs('a1 a2 b3 a4 -5 b6'))
  await queue.drain()
  t.same(batches, [['a1', 'b3', '-5'], ['a2', 'b6'], ['a4']], 'one job of a lane per batch, in enqueue order')
  const rows = await kronus.knex('jobs').where({ name: WORK })
  t.same(
    rows.map((row) => row.status),
    Array(6).fill('successful')
  )
})

t.test("a failing job holds back its own lane's later jobs only", async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const ran: string[] = []
  let failing = true
  queue.defineBatch(
    WORK,
    async (batch) =>
      batch.map(({ payload }) => {
        if (payload.n === 1 && failing) return new Error('not yet')
        ran.push(`${payload.lane}${payload.n}`)
        return undefined
      }),
    { batchSize: 10, lanes: true }
  )
  await queue.enqueueMany(WORK, jobs('a1 a2 b3 b4'))
  await queue.drain()
  t.same(ran, ['b3', 'b4'], "lane b went through; lane a's second job waits behind its first")
  failing = false
  kronus.clock.advance(60_000)
  await queue.drain()
  t.same(ran, ['b3', 'b4', 'a1', 'a2'], 'once the first succeeds on its retry, the second follows')
})

t.test('two workers draining laned batches run each job once, a lane one job at a time and in order', async (t) => {
  const kronus = await buildKronus(t)
  const running = new Set<string>()
  const overlaps: string[] = []
  const order = new Map<string, number[]>()
  const handler = async (batch: Array<BatchJob<{ lane: string | null; n: number }>>) => {
    for (const { payload } of batch) {
      const lane = payload.lane!
      if (running.has(lane)) overlaps.push(lane)
      running.add(lane)
    }
    // Both workers' batches are under way at once here.
    await new Promise((resolve) => setTimeout(resolve, 2))
    for (const { payload } of batch) {
      running.delete(payload.lane!)
      order.set(payload.lane!, [...(order.get(payload.lane!) ?? []), payload.n])
    }
    return batch.map(() => undefined)
  }
  const a = queueFor(kronus, { workerId: 'a' })
  const b = queueFor(kronus, { workerId: 'b' })
  a.defineBatch(WORK, handler, { batchSize: 7, lanes: true })
  b.defineBatch(WORK, handler, { batchSize: 7, lanes: true })
  // 12 lanes of 5 jobs each, enqueued round-robin so each lane's jobs are spread out.
  const spec: string[] = []
  for (let n = 0; n < 5; n++) for (const lane of 'abcdefghijkl') spec.push(`${lane}${n}`)
  await a.enqueueMany(WORK, jobs(spec.join(' ')))
  await Promise.all([a.drain(), b.drain()])
  t.same(overlaps, [], 'no lane ever had two jobs running')
  t.equal(order.size, 12)
  for (const [lane, ns] of order) t.same(ns, [0, 1, 2, 3, 4], `${lane}: every job once, in order`)
})

t.test(
  'PostgreSQL: a batch skips a lane another claim is taking and takes the rest',
  { skip: onPostgres() ? false : 'the lane locks are PostgreSQL-only' },
  async (t) => {
    const kronus = await buildKronus(t)
    const queue = queueFor(kronus)
    queue.defineBatch(WORK, async (batch) => batch.map(() => undefined), { batchSize: 10, lanes: true })
    await queue.enqueueMany(WORK, jobs('h1 f2 -3'))
    const request = { now: kronus.clock.now(), workerId: 'w', name: WORK, lockMs: 90_000, limit: 10, lanes: true }
    const rival = await kronus.knex.transaction()
    try {
      // What a rival's claim transaction holds while it takes a job of this lane.
      await rival.raw(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':kronus.lane:' || ?))`, ['h'])
      const claimed = await claimBatch(kronus.knex, request)
      t.same(
        claimed.map((job) => JSON.parse(job.payload).n),
        [2, 3],
        'the held lane is skipped for now'
      )
    } finally {
      await rival.rollback()
    }
    const after = await claimBatch(kronus.knex, request)
    t.same(
      after.map((job) => JSON.parse(job.payload).n),
      [1],
      'the next claim takes it'
    )
  }
)
