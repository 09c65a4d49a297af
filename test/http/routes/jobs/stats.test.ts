import t from 'tap'
import { claimDueJobs } from '../../../../src/queue/claim.js'
import { PermanentJobError } from '../../../../src/queue/types.js'
import { buildKronus, type TestKronus } from '../../../helpers/app.js'
import { queueFor } from '../../../queue/helpers.js'
import { get, signUp } from './helpers.js'

declare module '../../../../src/queue/types.js' {
  interface KronusJobs {
    'test.route.stats': { outcome: 'ok' | 'fail' }
  }
}

const NAME = 'test.route.stats'

async function stats(kronus: TestKronus, token: string): Promise<Record<string, number>> {
  const res = await get(kronus, '/v1/jobs/stats', token)
  if (res.statusCode !== 200) throw new Error(`stats failed: ${res.statusCode}`)
  return res.body.data
}

t.test('GET /v1/jobs/stats counts the jobs of each status', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  // Other parts of Kronus may have queued jobs of their own; count only what this test adds.
  const before = await stats(kronus, admin.token)
  t.same(Object.keys(before).sort(), [
    'dead_job_count',
    'enqueued_job_count',
    'enueued_job_count',
    'in_progress_job_count',
    'scheduled_job_count',
    'successful_job_count'
  ])

  const queue = queueFor(kronus)
  queue.define(NAME, async (payload) => {
    if (payload.outcome === 'fail') throw new PermanentJobError('no')
  })
  for (const outcome of ['ok', 'ok', 'ok', 'fail'] as const) await queue.enqueue(NAME, { outcome })
  await queue.drain()
  await queue.enqueue(NAME, { outcome: 'ok' })
  await queue.enqueue(NAME, { outcome: 'ok' })
  await claimDueJobs(kronus.knex, {
    now: kronus.clock.now(),
    workerId: 'busy',
    lockMsByName: new Map([[NAME, 90_000]]),
    limit: 1
  })
  for (let i = 0; i < 3; i++) await queue.enqueue(NAME, { outcome: 'ok' }, { runAt: kronus.clock.now() + 60_000 })

  const after = await stats(kronus, admin.token)
  const added = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]))
  t.same(added, {
    scheduled_job_count: 3,
    enqueued_job_count: 1,
    enueued_job_count: 1,
    in_progress_job_count: 1,
    successful_job_count: 3,
    dead_job_count: 1
  })
})

t.test('GET /v1/jobs/stats is for admins only', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const basic = await signUp(kronus, admin.token)
  t.equal((await get(kronus, '/v1/jobs/stats', basic.token)).statusCode, 403)
  t.equal((await get(kronus, '/v1/jobs/stats')).statusCode, 401)
})
