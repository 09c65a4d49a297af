import pino from 'pino'
import t from 'tap'
import { JobStatistics } from '../../src/queue/job-statistics.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { onPostgres } from '../helpers/db.js'
import { queueFor } from './helpers.js'

/*
 * PostgreSQL plans claims from the jobs table's statistics; after a burst of jobs the
 * queue analyzes the table itself rather than wait for autovacuum (JobStatistics).
 */

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.statistics.work': { n: number }
  }
}

const WORK = 'test.statistics.work'
const skip = onPostgres() ? false : 'the jobs table is analyzed on PostgreSQL only'

/** What the planner believes the jobs table holds: -1 until it was first analyzed. */
async function plannedRows(kronus: TestKronus): Promise<number> {
  const { rows } = await kronus.knex.raw(
    `SELECT reltuples FROM pg_class WHERE oid = to_regclass(quote_ident(current_schema()) || '.jobs')`
  )
  return Number(rows[0].reltuples)
}

function work(count: number) {
  return Array.from({ length: count }, (_, n) => ({ payload: { n } }))
}

t.test('a burst of jobs gets the table analyzed once they are committed, not before', { skip }, async (t) => {
  const kronus = await buildKronus(t)
  const statistics = new JobStatistics(kronus.knex, pino({ level: 'silent' }), 10)
  const before = await plannedRows(kronus)
  await kronus.knex.transaction(async (trx) => {
    await trx('jobs').insert(
      work(12).map(({ payload }) => ({
        name: WORK,
        payload: JSON.stringify(payload),
        status: 'enqueued',
        run_at: 0,
        priority: 0,
        fair_at: 0,
        attempts: 0,
        max_attempts: 1,
        created_at: 0,
        updated_at: 0
      }))
    )
    statistics.stored(12, trx)
    t.equal(await plannedRows(kronus), before, 'nothing is analyzed inside the transaction')
  })
  await statistics.settled()
  t.equal(await plannedRows(kronus), Number((await kronus.knex('jobs').count({ n: '*' }).first())!.n), 'then it is')
})

t.test('jobs rolled back, or fewer than the threshold, get no analysis', { skip }, async (t) => {
  const kronus = await buildKronus(t)
  const statistics = new JobStatistics(kronus.knex, pino({ level: 'silent' }), 10)
  const before = await plannedRows(kronus)
  await kronus.knex
    .transaction(async (trx) => {
      statistics.stored(12, trx)
      throw new Error('rolled back')
    })
    .catch(() => undefined)
  await statistics.settled()
  statistics.stored(9)
  await statistics.settled()
  t.equal(await plannedRows(kronus), before)
})

t.test('the queue counts the jobs it stores toward the next analysis', { skip }, async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { analyzeAfterJobs: 20 })
  queue.define(WORK, async () => undefined)
  await queue.enqueueMany(WORK, work(15))
  await queue.enqueue(WORK, { n: 15 })
  const before = await plannedRows(kronus)
  await queue.enqueueMany(WORK, work(4))
  // stop() waits for an analysis under way.
  await queue.stop()
  t.not(before, await plannedRows(kronus), 'the twentieth job stored set it off')
  t.equal(await plannedRows(kronus), Number((await kronus.knex('jobs').count({ n: '*' }).first())!.n))
})
