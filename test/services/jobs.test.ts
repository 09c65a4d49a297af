import t from 'tap'
import { laneGroup } from '../../src/services/jobs.js'
import { buildKronus } from '../helpers/app.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.due-by-lane': Record<string, never>
  }
}

t.test('laneGroup: a lane without the user it orders; a job in no lane by its name', async (t) => {
  t.equal(laneGroup('events:alarms:deliveries:42', 'events.deliver'), 'events:alarms:deliveries')
  t.equal(laneGroup('events:fan-out:global', 'events.deliver'), 'events:fan-out')
  t.equal(laneGroup('webhook:3:17', 'outbound-webhook.deliver'), 'webhook:3')
  t.equal(laneGroup('solo', 'x'), 'solo')
  t.equal(laneGroup(null, 'message.send'), 'message.send')
})

t.test('dueByLane: due jobs only, grouped, the longest wait first', async (t) => {
  const kronus = await buildKronus(t)
  const name = 'test.due-by-lane'
  kronus.queue.define(name, async () => undefined)
  const before = await kronus.services.jobs.dueByLane()
  await kronus.queue.enqueue(name, {}, { lane: 'test:a:1' })
  kronus.clock.advance(30_000)
  await kronus.queue.enqueue(name, {}, { lane: 'test:a:2' })
  await kronus.queue.enqueue(name, {}, { lane: 'test:b:1' })
  kronus.clock.advance(15_000)
  await kronus.queue.enqueue(name, {})
  await kronus.queue.enqueue(name, {}, { lane: 'test:b:2', runAt: kronus.clock.now() + 1000 })

  const ours = (await kronus.services.jobs.dueByLane()).filter((l) => !before.some((b) => b.lane === l.lane))
  t.same(ours, [
    { lane: 'test:a', due: 2, oldestDueAgeMs: 45_000 },
    { lane: 'test:b', due: 1, oldestDueAgeMs: 15_000 },
    { lane: name, due: 1, oldestDueAgeMs: 0 }
  ])
})
