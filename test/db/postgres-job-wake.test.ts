import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FakeClock } from '../../src/clock.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { adminQuery } from '../helpers/db.js'

/*
 * PostgreSQL workers are woken by the jobs table's notifications (migration 0021,
 * src/queue/wake-listener.ts), not by polling. Both instances here poll once a minute,
 * so a job that runs within the hang guard (20 s) was started by a notification.
 */

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.wake.work': { label: string }
  }
}

const WORK = 'test.wake.work'
const config = { jobs: { listen: true, safetyPollIntervalMs: 60_000 } }
/** Not a timing assertion: only how long a broken wake-up may hang the test. */
const HANG_GUARD_MS = 20_000

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + HANG_GUARD_MS
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

function ranWithin<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('the job did not run: no worker was woken')), HANG_GUARD_MS).unref()
    )
  ])
}

/** Two instances on one schema: `producer` only enqueues, `worker` is started and listening. */
async function twoInstances(t: Test): Promise<{ producer: TestKronus; worker: TestKronus; ran: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-wake-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const clock = new FakeClock()
  const producer = await buildKronus(t, { dir, clock, config })
  const worker = await buildKronus(t, { dir, clock, config })
  const ran: string[] = []
  worker.queue.define(WORK, async (payload) => {
    ran.push(payload.label)
  })
  worker.queue.start()
  await until('the worker listens', () => worker.queue.listenerBackendPid !== undefined)
  return { producer, worker, ran }
}

t.test('a job enqueued by one instance is run by another without waiting for a poll', async (t) => {
  const { producer, ran } = await twoInstances(t)
  await producer.knex.transaction(async (trx) => {
    await producer.queue.enqueue(WORK, { label: 'first' }, {}, trx)
    await producer.queue.enqueue(WORK, { label: 'second' }, {}, trx)
  })
  const successful = async () => (await producer.knex('jobs').where({ name: WORK, status: 'successful' })).length
  await ranWithin(until('both jobs ran and were recorded', async () => (await successful()) === 2))
  t.same(ran.sort(), ['first', 'second'], 'each ran once')
})

t.test('a job enqueued in a transaction that rolls back wakes nobody and never runs', async (t) => {
  const { producer, ran } = await twoInstances(t)
  await producer.knex
    .transaction(async (trx) => {
      await producer.queue.enqueue(WORK, { label: 'rolled back' }, {}, trx)
      throw new Error('roll back')
    })
    .catch(() => undefined)
  await producer.queue.enqueue(WORK, { label: 'committed' })
  await ranWithin(until('the committed job ran', () => ran.length === 1))
  t.same(ran, ['committed'])
})

t.test('a worker whose listening connection is killed listens again and is still woken', async (t) => {
  const { producer, worker, ran } = await twoInstances(t)
  const killed = worker.queue.listenerBackendPid!
  const { rows } = await adminQuery('SELECT pg_terminate_backend($1) AS ended', [killed])
  t.equal(rows[0].ended, true, 'the listening connection was ended by the server')
  await until(
    'the worker listens again on a new connection',
    () => worker.queue.listenerBackendPid !== undefined && worker.queue.listenerBackendPid !== killed
  )
  await producer.queue.enqueue(WORK, { label: 'after the reconnection' })
  await ranWithin(until('the job ran', () => ran.length === 1))
  t.same(ran, ['after the reconnection'])
})

t.test('a job enqueued while the worker was not listening is run when it listens again', async (t) => {
  const { producer, worker, ran } = await twoInstances(t)
  // Stopped, then enqueued: no notification reaches the worker; listening again looks for it.
  await worker.queue.stop()
  await producer.queue.enqueue(WORK, { label: 'while away' })
  worker.queue.start()
  await ranWithin(until('the job ran', () => ran.length === 1))
  t.same(ran, ['while away'])
})

t.test('a listening worker runs each job scheduled for later at its time, not only the first', async (t) => {
  const { producer, worker, ran } = await twoInstances(t)
  // The clock is the test's: each job is due once it has been moved to its run_at, and the
  // worker's timer for it (real time, as long as the wait it read) has gone off.
  const start = worker.clock.now()
  await producer.queue.enqueue(WORK, { label: 'sooner' }, { runAt: start + 300 })
  await producer.queue.enqueue(WORK, { label: 'later' }, { runAt: start + 600 })
  worker.clock.set(start + 300)
  await ranWithin(until('the sooner job ran', () => ran.length === 1))
  worker.clock.set(start + 600)
  // Told of the later job while its timer was set for the sooner one: the wake-up at the
  // sooner one's time looked for the next, with no poll for a minute.
  await ranWithin(until('the later job ran', () => ran.length === 2))
  t.same(ran, ['sooner', 'later'])
})
