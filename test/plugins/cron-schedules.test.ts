import type { Knex } from 'knex'
import pino from 'pino'
import t from 'tap'
import { CronSchedules } from '../../src/plugins/cron-schedules.js'
import { definePlugin } from '../../src/plugins/define.js'
import { buildKronus } from '../helpers/app.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'cron-test.report': { label: string }
  }
}

const START = Date.UTC(2026, 0, 5, 12, 0, 0)

/** The report's fires enqueued so far (the core's own schedules, such as the heartbeat's, may fire beside it). */
async function reports(kronus: { knex: Knex }): Promise<number> {
  return (await kronus.knex('jobs').where({ name: 'cron-test.report' })).length
}

function reporter(runs: string[], cron = '*/15 * * * *', timeZone?: string) {
  return definePlugin({
    name: 'cron-test',
    version: '1.0.0',
    async register(kronus) {
      kronus.queue.define('cron-test.report', async ({ label }) => {
        runs.push(`${label}@${new Date(kronus.clock.now()).toISOString()}`)
      })
      await kronus.queue.schedule('cron-test.report', cron, { label: 'report' }, { timeZone })
    }
  })()
}

t.test('a scheduled job runs at each cron fire, once', async (t) => {
  const runs: string[] = []
  const kronus = await buildKronus(t, { config: { plugins: [reporter(runs)] } })
  t.equal(kronus.clock.now(), START)
  t.equal(await kronus.cronSchedules.tick(), 0, 'not due at 12:00 itself: the first fire is the next one')
  kronus.clock.advanceMinutes(15)
  t.equal(await kronus.cronSchedules.tick(), 1, "the report's fire")
  t.equal(await reports(kronus), 1)
  t.equal(await kronus.cronSchedules.tick(), 0, 'a second tick at the same time enqueues nothing')
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(15)
  await kronus.cronSchedules.tick()
  await kronus.queue.drain()
  t.same(runs, ['report@2026-01-05T12:15:00.000Z', 'report@2026-01-05T12:30:00.000Z'])
})

t.test('two processes ticking the same schedule enqueue each fire once', async (t) => {
  const runs: string[] = []
  const kronus = await buildKronus(t, { config: { plugins: [reporter(runs)] } })
  const other = new CronSchedules({
    knex: kronus.knex,
    clock: kronus.clock,
    logger: pino({ level: 'silent' }),
    queue: kronus.queue
  })
  // The second process has the same plugin configured; its schedule call finds the row in place.
  await other.schedule('cron-test.report', '*/15 * * * *', { label: 'report' }, 'UTC')
  kronus.clock.advanceMinutes(15)
  const fired = await Promise.all([
    kronus.cronSchedules.tick(),
    other.tick(),
    kronus.cronSchedules.tick(),
    other.tick()
  ])
  t.equal(
    fired.reduce((a, b) => a + b, 0),
    1,
    "the report's fire, once"
  )
  t.equal((await kronus.knex('jobs').where({ name: 'cron-test.report' })).length, 1)
})

t.test('fires missed while Kronus was down are made up once, not in a burst', async (t) => {
  const runs: string[] = []
  const first = await buildKronus(t, { config: { plugins: [reporter(runs)] } })
  await first.stop()
  first.clock.advanceMinutes(6 * 60)
  const second = await buildKronus(t, { dir: first.dir, clock: first.clock, config: { plugins: [reporter(runs)] } })
  await second.cronSchedules.tick()
  t.equal(await reports(second), 1)
  const [job] = await second.knex('jobs').where({ name: 'cron-test.report' })
  t.equal(
    job.job_key,
    `cron:cron-test.report:${Date.parse('2026-01-05T18:00:00Z')}`,
    'the fire made up is the latest missed one'
  )
  await second.queue.drain()
  t.same(runs, ['report@2026-01-05T18:00:00.000Z'])
  second.clock.advanceMinutes(14)
  await second.cronSchedules.tick()
  t.equal(await reports(second), 1, 'the next fire is the next cron time after the catch-up')
  second.clock.advanceMinutes(1)
  await second.cronSchedules.tick()
  t.equal(await reports(second), 2)
})

t.test('changing the cron of a schedule takes effect at the next start; keeping it keeps the next fire', async (t) => {
  const runs: string[] = []
  const first = await buildKronus(t, { config: { plugins: [reporter(runs)] } })
  const row = async (k: typeof first) => k.knex('cron_schedules').where({ name: 'cron-test.report' }).first()
  t.equal(Number((await row(first)).next_run_at), START + 15 * 60_000)
  await first.stop()

  const same = await buildKronus(t, { dir: first.dir, clock: first.clock, config: { plugins: [reporter(runs)] } })
  t.equal(Number((await row(same)).next_run_at), START + 15 * 60_000)
  await same.stop()

  const daily = await buildKronus(t, {
    dir: first.dir,
    clock: first.clock,
    config: { plugins: [reporter(runs, '0 9 * * *', 'America/Toronto')] }
  })
  t.equal(
    new Date(Number((await row(daily)).next_run_at)).toISOString(),
    '2026-01-05T14:00:00.000Z',
    'the same day at 09:00 in Toronto (it is 07:00 there)'
  )
})

t.test('a bad schedule stops start-up with the plugin named', async (t) => {
  const runs: string[] = []
  await t.rejects(buildKronus(t, { config: { plugins: [reporter(runs, 'every day')] } }), {
    message:
      /plugin "cron-test" failed to register: cannot schedule job "cron-test.report": "every day" is not a valid 5-field cron expression/
  })
  const undefinedJob = definePlugin({
    name: 'forgetful',
    version: '1.0.0',
    async register(kronus) {
      await kronus.queue.schedule('cron-test.report', '* * * * *', { label: 'x' })
    }
  })
  await t.rejects(buildKronus(t, { config: { plugins: [undefinedJob()] } }), { message: /define it first/ })
})
