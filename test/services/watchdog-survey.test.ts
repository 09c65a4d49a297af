import t from 'tap'
import { PluginHealthStore } from '../../src/services/plugin-health.js'
import { QUEUE_BEHIND_MS } from '../../src/services/watchdog.js'
import { surveyTrouble } from '../../src/services/watchdog-survey.js'
import { buildKronus } from '../helpers/app.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.survey.work': Record<string, never>
  }
}

t.test("the watchdog's one read says which source has something to say, and nothing when all is well", async (t) => {
  const kronus = await buildKronus(t)
  const { knex, clock } = kronus
  const request = () => ({
    names: ['test.survey.work'],
    plugins: ['backup'],
    now: clock.now(),
    waitedMs: QUEUE_BEHIND_MS
  })
  const quiet = { channels: false, queue: false, plugins: false, seen: false }
  t.same(await surveyTrouble(knex, request()), quiet, 'all well')

  kronus.queue.define('test.survey.work', async () => undefined)
  await kronus.queue.enqueue('test.survey.work', {})
  clock.advance(QUEUE_BEHIND_MS - 1)
  t.same(await surveyTrouble(knex, request()), quiet, 'a job due for less than 2 minutes is not stuck')
  clock.advance(1)
  t.same(await surveyTrouble(knex, request()), { ...quiet, queue: true })
  t.same(await surveyTrouble(knex, { ...request(), names: [] }), quiet, 'only the named jobs count')
  await kronus.queue.drain()

  await kronus.knex('channel_health').insert({ channel: 'sms', failing_since: clock.now(), updated_at: clock.now() })
  t.same(await surveyTrouble(knex, request()), { ...quiet, channels: true }, 'a channel whose sends fail')
  await kronus.knex('channel_health').delete()

  const plugins = new PluginHealthStore(knex, clock)
  await plugins.degraded('other', 'not configured here')
  t.same(await surveyTrouble(knex, request()), quiet, 'only the configured plugins count')
  await plugins.degraded('backup', 'bucket not found')
  t.same(await surveyTrouble(knex, request()), { ...quiet, plugins: true })
  t.same(await surveyTrouble(knex, { ...request(), plugins: [] }), quiet)
  await plugins.recovered('backup')

  await kronus.knex('degraded_conditions').insert({
    condition: 'queue_behind',
    reason: 'r',
    about_texting: false,
    started_at: clock.now(),
    announced: true
  })
  t.same(await surveyTrouble(knex, request()), { ...quiet, seen: true }, 'a condition on record, whose end may be due')
})
