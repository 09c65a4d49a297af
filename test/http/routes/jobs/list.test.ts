import t from 'tap'
import { PermanentJobError } from '../../../../src/queue/types.js'
import { buildKronus } from '../../../helpers/app.js'
import { queueFor } from '../../../queue/helpers.js'
import { get, signUp } from './helpers.js'

declare module '../../../../src/queue/types.js' {
  interface KronusJobs {
    'test.route.list': { n: number }
  }
}

const NAME = 'test.route.list'
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

t.test('GET /v1/jobs lists jobs newest first for an admin, without queue internals', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const queue = queueFor(kronus)
  queue.define(NAME, async (payload) => {
    if (payload.n === 2) throw new PermanentJobError('cannot')
  })
  const done = await queue.enqueue(NAME, { n: 1 }, { key: 'route:1', userId: admin.id })
  const dead = await queue.enqueue(NAME, { n: 2 })
  await queue.drain()
  const later = await queue.enqueue(NAME, { n: 3 }, { key: 'route:3', runAt: kronus.clock.now() + 60_000 })

  const res = await get(kronus, '/v1/jobs', admin.token)
  t.equal(res.statusCode, 200)
  t.equal(res.body.success, true)
  const mine = res.body.data.filter((j: any) => j.name === NAME)
  t.same(
    mine.map((j: any) => j.id),
    [later!.id, dead!.id, done!.id],
    'newest first'
  )
  t.match(mine[2], {
    id: done!.id,
    name: NAME,
    status: 'successful',
    payload: { n: 1 },
    key: 'route:1',
    user_id: admin.id,
    attempts: 1,
    max_attempts: 4,
    last_error: null
  })
  for (const stamp of [mine[2].created_at, mine[2].updated_at, mine[2].run_at, mine[2].finished_at])
    t.match(stamp, RFC3339)
  t.match(mine[1], { status: 'dead', last_error: 'PermanentJobError: cannot' })
  t.match(mine[0], { status: 'scheduled', finished_at: null })
  for (const job of mine) {
    for (const hidden of ['live_key', 'lock_expires_at', 'locked_by', 'locked_at', 'lane'])
      t.notOk(hidden in job, `${hidden} is not shown`)
  }
  t.match(res.body.paging, { page: 1, pages: 1 })
  t.equal(res.body.paging.total, res.body.data.length)
})

t.test('GET /v1/jobs?status= filters by status', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const queue = queueFor(kronus)
  queue.define(NAME, async () => undefined)
  const ran = await queue.enqueue(NAME, { n: 1 })
  await queue.drain()
  const waiting = await queue.enqueue(NAME, { n: 2 }, { runAt: kronus.clock.now() + 60_000 })

  const successful = await get(kronus, '/v1/jobs?status=successful', admin.token)
  t.equal(successful.statusCode, 200)
  t.ok(successful.body.data.every((j: any) => j.status === 'successful'))
  t.ok(successful.body.data.some((j: any) => j.id === ran!.id))
  t.notOk(successful.body.data.some((j: any) => j.id === waiting!.id))

  const scheduled = await get(kronus, '/v1/jobs?status=scheduled', admin.token)
  t.same(
    scheduled.body.data.filter((j: any) => j.name === NAME).map((j: any) => j.id),
    [waiting!.id]
  )
  t.equal((await get(kronus, '/v1/jobs?status=in-progress', admin.token)).statusCode, 200)
})

t.test('an unknown status is a 400 that lists the valid ones', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const res = await get(kronus, '/v1/jobs?status=finished', admin.token)
  t.equal(res.statusCode, 400)
  t.equal(res.body.success, false)
  t.match(res.body.errors[0], /status"? must be one of scheduled, enqueued, in-progress, successful, dead/)
  t.equal((await get(kronus, '/v1/jobs?page=0', admin.token)).statusCode, 400, 'pages start at 1')
})

t.test('GET /v1/jobs is for admins only', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const basic = await signUp(kronus, admin.token)
  t.equal((await get(kronus, '/v1/jobs', basic.token)).statusCode, 403)
  t.equal((await get(kronus, '/v1/jobs')).statusCode, 401)
})

t.test('pages hold 100 jobs', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const queue = queueFor(kronus)
  const before = (await get(kronus, '/v1/jobs', admin.token)).body.paging.total
  for (let n = 0; n < 150; n++) await queue.enqueue(NAME, { n })
  const first = await get(kronus, '/v1/jobs', admin.token)
  t.equal(first.body.data.length, 100)
  t.same(first.body.paging, { total: before + 150, page: 1, pages: 2 })
  const second = await get(kronus, '/v1/jobs?page=2', admin.token)
  t.equal(second.body.data.length, before + 50)
})
