import type { Knex } from 'knex'
import PgBoss from 'pg-boss'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import type { ResultRow } from './lib/result.js'

declare module '../src/queue/types.js' {
  interface KronusJobs {
    /** The queue benchmark's job: does nothing, so only the queue is measured. */
    'bench.noop': { n: number }
  }
}

export type QueueSystem = 'kronus' | 'raw' | 'pgboss'

export interface QueueParams {
  system: QueueSystem
  jobs: number
  /** Jobs enqueued at the same time, as several request handlers would. */
  producers: number
  /** pg-boss only: work() calls, and jobs each one fetches at a time. */
  pgBossWorkers: number
  pgBossBatchSize: number
}

/** What one system did with `jobs` jobs; the runner turns the three into rows. */
export interface QueueMeasurement {
  system: QueueSystem
  db: string
  jobs: number
  enqueueSeconds: number
  completeSeconds: number
  /** jobs / (enqueue + complete): the whole life of a job. */
  jobsPerSecond: number
}

async function produce(jobs: number, producers: number, one: (n: number) => Promise<unknown>): Promise<number> {
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < jobs) await one(next++)
    })
  )
  return (performance.now() - started) / 1000
}

function counter(target: number): { hit(n?: number): void; reached: Promise<void> } {
  let count = 0
  let resolve!: () => void
  const reached = new Promise<void>((r) => (resolve = r))
  return {
    hit(n = 1) {
      count += n
      if (count >= target) resolve()
    },
    reached
  }
}

/** Kronus's queue as createKronus configures it: default concurrency and poll interval, its normal start() loop. */
async function kronusQueue(spec: BenchDatabaseSpec, params: QueueParams): Promise<QueueMeasurement> {
  const { kronus } = await buildBenchKronus(spec)
  try {
    const done = counter(params.jobs)
    kronus.queue.define('bench.noop', async () => done.hit())
    // `npm run bench -- --query-profile <prefix>`: the statements of the whole life of the jobs.
    const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
    const queries = profileFile ? new QueryProfile().attach(kronus.knex) : null
    const enqueueSeconds = await produce(params.jobs, params.producers, (n) =>
      kronus.queue.enqueue('bench.noop', { n })
    )
    const started = performance.now()
    kronus.queue.start()
    await done.reached
    // stop() returns once every running job has recorded its end.
    await kronus.queue.stop()
    const completeSeconds = (performance.now() - started) / 1000
    queries?.write(`${profileFile}-queue-${spec.kind}.txt`)
    const [{ n }] = await kronus.knex('jobs').where({ name: 'bench.noop', status: 'successful' }).count({ n: '*' })
    if (Number(n) !== params.jobs) throw new Error(`expected ${params.jobs} successful jobs, found ${n}`)
    return measurement(params, spec, enqueueSeconds, completeSeconds)
  } finally {
    await kronus.stop('benchmark finished')
  }
}

/**
 * The limit: one transaction per job that inserts a row and updates it, on the same
 * database with the same connection settings (Kronus's knex). Any durable queue needs at
 * least this much per job; Kronus's needs three writes (enqueue, claim, finish).
 */
async function rawTransactions(spec: BenchDatabaseSpec, params: QueueParams): Promise<QueueMeasurement> {
  const { kronus } = await buildBenchKronus(spec)
  const knex: Knex = kronus.knex
  try {
    await knex.schema.createTable('bench_raw', (t) => {
      t.increments('id').primary()
      t.text('payload').notNullable()
      t.string('status', 16).notNullable()
      t.bigInteger('updated_at').notNullable()
    })
    const seconds = await produce(params.jobs, params.producers, (n) =>
      knex.transaction(async (trx) => {
        const [inserted] = await trx('bench_raw')
          .insert({ payload: JSON.stringify({ n }), status: 'enqueued', updated_at: Date.now() })
          .returning('id')
        const id = typeof inserted === 'object' ? (inserted as { id: number }).id : inserted
        await trx('bench_raw').where({ id }).update({ status: 'successful', updated_at: Date.now() })
      })
    )
    return {
      system: 'raw',
      db: spec.kind,
      jobs: params.jobs,
      enqueueSeconds: seconds,
      completeSeconds: 0,
      jobsPerSecond: params.jobs / seconds
    }
  } finally {
    await kronus.stop('benchmark finished')
  }
}

export function pgBossSchema(spec: BenchDatabaseSpec): string {
  return `${spec.schema}_boss`
}

/** pg-boss 10 in a schema of its own on the same server, with no-op handlers. */
async function pgBoss(spec: BenchDatabaseSpec, params: QueueParams): Promise<QueueMeasurement> {
  if (spec.kind !== 'postgres') throw new Error('pg-boss runs on PostgreSQL only')
  const boss = new PgBoss({
    connectionString: spec.url,
    schema: pgBossSchema(spec),
    max: 10,
    supervise: false,
    schedule: false
  })
  boss.on('error', (err) => console.error('pg-boss error', err))
  await boss.start()
  try {
    const queue = 'bench-noop'
    await boss.createQueue(queue)
    const enqueueSeconds = await produce(params.jobs, params.producers, (n) => boss.send(queue, { n }))
    const done = counter(params.jobs)
    const started = performance.now()
    for (let w = 0; w < params.pgBossWorkers; w++) {
      await boss.work(queue, { batchSize: params.pgBossBatchSize, pollingIntervalSeconds: 0.5 }, async (jobs) =>
        done.hit(jobs.length)
      )
    }
    await done.reached
    // pg-boss marks a batch completed after its handler returns, without waiting: wait for the last ones.
    while ((await boss.getQueueSize(queue, { before: 'completed' })) > 0) await new Promise((r) => setTimeout(r, 10))
    const completeSeconds = (performance.now() - started) / 1000
    return measurement(params, spec, enqueueSeconds, completeSeconds)
  } finally {
    await boss.stop({ graceful: true, wait: true, timeout: 5000 })
  }
}

function measurement(
  params: QueueParams,
  spec: BenchDatabaseSpec,
  enqueueSeconds: number,
  completeSeconds: number
): QueueMeasurement {
  return {
    system: params.system,
    db: spec.kind,
    jobs: params.jobs,
    enqueueSeconds,
    completeSeconds,
    jobsPerSecond: params.jobs / (enqueueSeconds + completeSeconds)
  }
}

export async function queueCase(spec: BenchDatabaseSpec, params: QueueParams): Promise<QueueMeasurement> {
  switch (params.system) {
    case 'kronus':
      return kronusQueue(spec, params)
    case 'raw':
      return rawTransactions(spec, params)
    case 'pgboss':
      return pgBoss(spec, params)
  }
}

export function queueRows(measurements: QueueMeasurement[]): ResultRow[] {
  const rows: ResultRow[] = []
  for (const db of new Set(measurements.map((m) => m.db))) {
    const of = (system: QueueSystem) => measurements.find((m) => m.db === db && m.system === system)
    const kronus = of('kronus')
    const raw = of('raw')
    const boss = of('pgboss')
    if (!kronus) continue
    const phases = `enqueue ${(kronus.jobs / kronus.enqueueSeconds).toFixed(0)}/s, complete ${(kronus.jobs / kronus.completeSeconds).toFixed(0)}/s`
    if (raw) {
      rows.push({
        bench: 'queue',
        subject: `kronus queue: ${kronus.jobs} jobs enqueued+completed`,
        db,
        value: kronus.jobsPerSecond,
        unit: 'jobs/s',
        limit: raw.jobsPerSecond,
        limitLabel: `${raw.jobsPerSecond.toFixed(0)} raw insert+update tx/s`,
        ratio: kronus.jobsPerSecond / raw.jobsPerSecond,
        lowerIsBetter: false,
        detail: phases
      })
    }
    if (boss) {
      rows.push({
        bench: 'queue',
        subject: `kronus queue vs pg-boss 10: ${kronus.jobs} jobs`,
        db,
        value: kronus.jobsPerSecond,
        unit: 'jobs/s',
        limit: boss.jobsPerSecond,
        limitLabel: `${boss.jobsPerSecond.toFixed(0)} jobs/s pg-boss`,
        ratio: kronus.jobsPerSecond / boss.jobsPerSecond,
        lowerIsBetter: false,
        detail: `pg-boss: enqueue ${(boss.jobs / boss.enqueueSeconds).toFixed(0)}/s, complete ${(boss.jobs / boss.completeSeconds).toFixed(0)}/s`
      })
    }
  }
  return rows
}
