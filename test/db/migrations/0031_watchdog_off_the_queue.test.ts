import t from 'tap'
import { up } from '../../../src/db/migrations/0031_watchdog_off_the_queue.js'
import { buildKronus } from '../../helpers/app.js'

declare module '../../../src/queue/types.js' {
  interface KronusJobs {
    'kronus.watchdog': Record<string, never>
    'test.migration.other': Record<string, never>
  }
}

t.test("the old watchdog job's cron row and waiting runs go; other jobs and schedules stay", async (t) => {
  const kronus = await buildKronus(t)
  // What a database of the Kronus before holds: the watchdog on the durable cron, a run waiting.
  for (const name of ['kronus.watchdog', 'test.migration.other'] as const) {
    kronus.queue.define(name, async () => undefined)
    await kronus.cronSchedules.schedule(name, '* * * * *', {}, 'UTC')
    await kronus.queue.enqueue(name, {})
    await kronus.queue.enqueue(name, {}, { runAt: kronus.clock.now() + 60_000 })
  }
  await up(kronus.knex)
  t.same(await kronus.knex('cron_schedules').pluck('name'), ['test.migration.other'])
  t.same(
    (await kronus.knex('jobs').select('name', 'status').orderBy('id')).map((j) => `${j.name} ${j.status}`),
    ['test.migration.other enqueued', 'test.migration.other scheduled']
  )
})
