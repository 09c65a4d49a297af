import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { queueFor } from '../../../queue/helpers.js'
import { get, signUp } from './helpers.js'

declare module '../../../../src/queue/types.js' {
  interface KronusJobs {
    'test.route.due': { n: number }
  }
}

t.test('GET /v1/jobs/due shows the jobs waiting past their time, by lane, and which lane is late', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await signUp(kronus)
  const user = await signUp(kronus, admin.token)
  const queue = queueFor(kronus)
  queue.define('test.route.due', async () => undefined)
  const lanesOf = async () => {
    const res = await get(kronus, '/v1/jobs/due', admin.token)
    t.equal(res.statusCode, 200)
    return (res.body.data as Array<{ lane: string }>).filter((l) => l.lane === 'test.route.due')
  }
  t.same(await lanesOf(), [], 'nothing of this name is due')
  await queue.enqueue('test.route.due', { n: 1 })
  kronus.clock.advance(60_000)
  await queue.enqueue('test.route.due', { n: 2 })
  t.same(await lanesOf(), [{ lane: 'test.route.due', due: 2, oldest_due_age_seconds: 60, late: false }])
  kronus.clock.advance(60_000)
  t.same(
    await lanesOf(),
    [{ lane: 'test.route.due', due: 2, oldest_due_age_seconds: 120, late: true }],
    'two minutes behind is late, as the watchdog counts it'
  )
  await queue.drain()
  t.same(await lanesOf(), [], 'once run, nothing is due')
  t.equal((await get(kronus, '/v1/jobs/due', user.token)).statusCode, 403, 'admins only')
})
