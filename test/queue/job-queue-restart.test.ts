import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FakeClock } from '../../src/clock.js'
import { claimDueJobs } from '../../src/queue/claim.js'
import { buildKronus } from '../helpers/app.js'
import { gate } from './helpers.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.restart.work': { label: string }
  }
}

const WORK = 'test.restart.work'
const config = { jobs: { concurrency: 1, shutdownTimeoutMs: 10 } }

function tempDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-restart-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function statuses(knex: import('knex').Knex): Promise<Record<string, string>> {
  const rows = await knex('jobs').select('payload', 'status')
  return Object.fromEntries(rows.map((r) => [JSON.parse(r.payload).label, r.status]))
}

t.test(
  'a restart in the middle of a run: in-progress, scheduled and enqueued jobs each complete exactly once',
  async (t) => {
    const dir = tempDir(t)
    const clock = new FakeClock()
    const completed: string[] = []

    const first = await buildKronus(t, { dir, clock, config })
    const running = gate()
    first.queue.define(WORK, async (payload, run) => {
      running.open()
      // The long job is still running when the server stops; it gives up when told to.
      await new Promise((resolve) => run.signal.addEventListener('abort', resolve))
      throw new Error(`${payload.label} interrupted`)
    })
    await first.queue.enqueue(WORK, { label: 'in-progress' })
    const pass = first.queue.runDue()
    await running.promise
    await first.queue.enqueue(WORK, { label: 'enqueued' })
    await first.queue.enqueue(WORK, { label: 'scheduled' }, { runAt: clock.now() + 15 * 60_000 })
    t.same(await statuses(first.knex), { 'in-progress': 'in-progress', enqueued: 'enqueued', scheduled: 'scheduled' })

    await first.stop()
    await pass

    clock.advance(60_000)
    const second = await buildKronus(t, { dir, clock, config })
    t.same(
      await statuses(second.knex),
      { 'in-progress': 'enqueued', enqueued: 'enqueued', scheduled: 'scheduled' },
      'nothing is left claimed by the stopped server'
    )
    second.queue.define(WORK, async (payload) => {
      completed.push(payload.label)
    })
    await second.queue.drain()
    t.same(completed.sort(), ['enqueued', 'in-progress'])
    clock.advance(15 * 60_000)
    await second.queue.drain()
    clock.advance(24 * 3600_000)
    await second.queue.drain()
    t.same(completed.sort(), ['enqueued', 'in-progress', 'scheduled'], 'each exactly once')
    t.same(await statuses(second.knex), {
      'in-progress': 'successful',
      enqueued: 'successful',
      scheduled: 'successful'
    })
  }
)

t.test('a crash in the middle of a run: the job its dead process held runs once its lock expires', async (t) => {
  const dir = tempDir(t)
  const clock = new FakeClock()

  const first = await buildKronus(t, { dir, clock, config })
  await first.queue.enqueue(WORK, { label: 'in-progress' })
  // The process claims the job and dies before it can finish or release it.
  await claimDueJobs(first.knex, {
    now: clock.now(),
    workerId: 'crashed-process',
    lockMsByName: new Map([[WORK, 90_000]]),
    limit: 1
  })
  await first.queue.enqueue(WORK, { label: 'enqueued' })
  await first.queue.enqueue(WORK, { label: 'scheduled' }, { runAt: clock.now() + 2 * 60_000 })
  await first.stop()

  const second = await buildKronus(t, { dir, clock, config })
  const completed: string[] = []
  second.queue.define(WORK, async (payload) => {
    completed.push(payload.label)
  })
  await second.queue.drain()
  t.same(completed, ['enqueued'], 'the orphan waits for its lock to expire')
  clock.advance(90_000)
  await second.queue.drain()
  t.same(completed.sort(), ['enqueued', 'in-progress'])
  clock.advance(60_000)
  await second.queue.drain()
  clock.advance(3600_000)
  await second.queue.drain()
  t.same(completed.sort(), ['enqueued', 'in-progress', 'scheduled'], 'each exactly once')
})
