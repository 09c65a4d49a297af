import t from 'tap'
import { retryDelayMs } from '../../src/queue/backoff.js'
import { JobTimeoutError, WorkerStoppingError } from '../../src/queue/errors.js'
import { type DeadJob, type JobRun, PermanentJobError } from '../../src/queue/types.js'
import { buildKronus } from '../helpers/app.js'
import { gate, jobRow, queueFor } from './helpers.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.queue.work': { n: number }
    'test.queue.other': { n: number }
  }
}

const WORK = 'test.queue.work'

t.test('an enqueued job runs once with its payload and ends successful', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const runs: Array<{ n: number; run: JobRun }> = []
  queue.define(WORK, async (payload, run) => {
    runs.push({ n: payload.n, run })
  })
  const job = await queue.enqueue(WORK, { n: 7 }, { userId: undefined })
  t.ok(job)
  t.equal((await jobRow(kronus, job!.id)).status, 'enqueued')

  t.equal(await queue.runDue(), 1)
  t.equal(runs.length, 1)
  t.equal(runs[0]!.n, 7)
  t.match(runs[0]!.run, { id: job!.id, name: WORK, attempt: 1, maxAttempts: 4 })
  const row = await jobRow(kronus, job!.id)
  t.match(row, { status: 'successful', attempts: 1, live_key: null, locked_by: null, lock_expires_at: null })
  t.equal(Number(row.finished_at), kronus.clock.now())

  t.equal(await queue.runDue(), 0, 'a finished job does not run again')
})

t.test('enqueueing a key that is still live is a no-op; once the job ended the key is free again', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  let runs = 0
  queue.define(WORK, async () => {
    runs++
  })
  const first = await queue.enqueue(WORK, { n: 1 }, { key: 'daily:1' })
  t.ok(first)
  t.equal(await queue.enqueue(WORK, { n: 2 }, { key: 'daily:1' }), null, 'while enqueued')
  // Inside a transaction too, without breaking the transaction.
  await kronus.knex.transaction(async (trx) => {
    t.equal(await queue.enqueue(WORK, { n: 3 }, { key: 'daily:1' }, trx), null)
    t.ok(await queue.enqueue(WORK, { n: 4 }, { key: 'daily:2' }, trx), 'another key in the same transaction')
  })
  t.equal(
    await queue.enqueue(WORK, { n: 5 }, { key: 'daily:1', runAt: kronus.clock.now() + 60_000 }),
    null,
    'a later run time does not matter'
  )

  await queue.drain()
  t.equal(runs, 2)
  const again = await queue.enqueue(WORK, { n: 6 }, { key: 'daily:1' })
  t.ok(again, 'the key is free once its job is successful')
  t.not(again!.id, first!.id)
  t.equal((await jobRow(kronus, first!.id)).job_key, 'daily:1', 'the ended job keeps its key for the record')
})

t.test('a job enqueued for later is scheduled and runs when its time comes', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const ranAt: number[] = []
  queue.define(WORK, async () => {
    ranAt.push(kronus.clock.now())
  })
  const runAt = kronus.clock.now() + 30 * 60_000
  const job = await queue.enqueue(WORK, { n: 1 }, { runAt })
  t.equal((await jobRow(kronus, job!.id)).status, 'scheduled')

  kronus.clock.set(runAt - 1)
  t.equal(await queue.runDue(), 0, 'not a millisecond early')
  kronus.clock.set(runAt)
  t.equal(await queue.runDue(), 1)
  t.same(ranAt, [runAt])
})

t.test(
  'a failing job is retried after e^attempts seconds, then dead after the configured attempts with its last error',
  async (t) => {
    const kronus = await buildKronus(t)
    const dead: DeadJob[] = []
    const queue = queueFor(kronus, { onDead: (job) => void dead.push(job) })
    let attempt = 0
    queue.define(
      WORK,
      async (_payload, run) => {
        attempt = run.attempt
        throw new Error(`boom ${run.attempt}`)
      },
      { maxAttempts: 3 }
    )
    const job = await queue.enqueue(WORK, { n: 1 })
    const start = kronus.clock.now()

    t.equal(await queue.runDue(), 1)
    let row = await jobRow(kronus, job!.id)
    t.match(row, { status: 'scheduled', attempts: 1, last_error: 'Error: boom 1', locked_by: null })
    t.equal(Number(row.run_at), start + 2718, 'first retry after e^1 s')

    kronus.clock.set(start + 2717)
    t.equal(await queue.runDue(), 0, 'not before its backoff')
    kronus.clock.set(start + 2718)
    t.equal(await queue.runDue(), 1)
    row = await jobRow(kronus, job!.id)
    t.match(row, { status: 'scheduled', attempts: 2, last_error: 'Error: boom 2' })
    t.equal(Number(row.run_at), start + 2718 + 7389, 'second retry after e^2 s')

    kronus.clock.set(Number(row.run_at))
    t.equal(await queue.runDue(), 1)
    row = await jobRow(kronus, job!.id)
    t.match(row, { status: 'dead', attempts: 3, last_error: 'Error: boom 3', live_key: null })
    t.equal(Number(row.finished_at), kronus.clock.now())
    t.equal(attempt, 3)
    t.equal(dead.length, 1, 'onDead hears of it once')
    t.match(dead[0], { id: job!.id, name: WORK, status: 'dead', attempts: 3, last_error: 'Error: boom 3' })

    kronus.clock.advance(24 * 3600_000)
    t.equal(await queue.runDue(), 0, 'a dead job never runs again')
  }
)

t.test('the backoff is e^min(attempts, 10) seconds', async (t) => {
  t.equal(retryDelayMs(1), 2718)
  t.equal(retryDelayMs(2), 7389)
  t.equal(retryDelayMs(3), 20086)
  t.equal(retryDelayMs(10), 22026466)
  t.equal(retryDelayMs(25), 22026466, 'capped at attempt 10')
})

t.test('by default a job gets 4 attempts, as in the first Kronus; enqueue can override it', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  let runs = 0
  queue.define(WORK, async () => {
    runs++
    throw new Error('always')
  })
  const job = await queue.enqueue(WORK, { n: 1 })
  const once = await queue.enqueue(WORK, { n: 2 }, { maxAttempts: 1 })
  for (let i = 0; i < 10; i++) {
    await queue.drain()
    kronus.clock.advance(3600_000)
  }
  t.equal(runs, 5)
  t.match(await jobRow(kronus, job!.id), { status: 'dead', attempts: 4, max_attempts: 4 })
  t.match(await jobRow(kronus, once!.id), { status: 'dead', attempts: 1, max_attempts: 1 })
})

t.test('a PermanentJobError ends the job dead at once', async (t) => {
  const kronus = await buildKronus(t)
  const dead: number[] = []
  const queue = queueFor(kronus, { onDead: (job) => void dead.push(job.id) })
  queue.define(WORK, async () => {
    throw new PermanentJobError('no such phone number')
  })
  const job = await queue.enqueue(WORK, { n: 1 })
  await queue.drain()
  t.match(await jobRow(kronus, job!.id), {
    status: 'dead',
    attempts: 1,
    last_error: 'PermanentJobError: no such phone number'
  })
  t.same(dead, [job!.id])
})

t.test('a throwing handler (even one throwing a non-Error) never stops the others', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, {
    onDead: () => {
      throw new Error('a broken onDead hook is contained too')
    }
  })
  const ok: number[] = []
  queue.define(
    WORK,
    async (payload) => {
      if (payload.n === 1) throw new Error('first fails')
      if (payload.n === 2) throw 'a string' // eslint-disable-line no-throw-literal
      ok.push(payload.n)
    },
    { maxAttempts: 1 }
  )
  for (const n of [1, 2, 3, 4]) await queue.enqueue(WORK, { n })
  t.equal(await queue.runDue(), 4)
  t.same(ok.sort(), [3, 4])
  const rows = await kronus.knex('jobs').select('status', 'last_error').orderBy('id')
  t.same(
    rows.map((r) => r.status),
    ['dead', 'dead', 'successful', 'successful']
  )
  t.equal(rows[1].last_error, 'a string')
})

t.test('a hanging handler times out, its signal is aborted, and the loop goes on', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  let signal: AbortSignal | undefined
  queue.define(
    WORK,
    async (payload, run) => {
      if (payload.n === 1) {
        signal = run.signal
        await new Promise(() => undefined) // never settles and ignores its signal
      }
    },
    { timeoutMs: 20, lockMs: 60_000 }
  )
  const hanging = await queue.enqueue(WORK, { n: 1 })
  const fine = await queue.enqueue(WORK, { n: 2 })

  t.equal(await queue.runDue(), 2, 'the pass ends although one handler never does')
  t.ok(signal?.aborted)
  t.type(signal?.reason, JobTimeoutError)
  t.match(await jobRow(kronus, hanging!.id), {
    status: 'scheduled',
    attempts: 1,
    last_error: 'JobTimeoutError: job timed out after 20 ms',
    locked_by: null
  })
  t.match(await jobRow(kronus, fine!.id), { status: 'successful' })

  const next = await queue.enqueue(WORK, { n: 3 })
  t.equal(await queue.runDue(), 1, 'later jobs still run')
  t.match(await jobRow(kronus, next!.id), { status: 'successful' })
})

t.test(
  'define refuses duplicates and lock times that could not hold a run or would leave a lost job waiting',
  async (t) => {
    const kronus = await buildKronus(t)
    const queue = queueFor(kronus)
    queue.define(WORK, async () => undefined)
    t.throws(() => queue.define(WORK, async () => undefined), /already defined/)
    t.throws(
      () => queue.define('test.queue.other', async () => undefined, { timeoutMs: 60_000, lockMs: 60_000 }),
      /must exceed its timeoutMs/
    )
    t.throws(
      () => queue.define('test.queue.other', async () => undefined, { timeoutMs: 1000, lockMs: 5 * 60_000 }),
      /at most 240000/
    )
    t.throws(() => queue.define('test.queue.other', async () => undefined, { maxAttempts: 0 }), /positive integer/)
    t.throws(
      () => queue.define('test.queue.other', async () => undefined, { timeoutMs: 5 * 60_000 }),
      /must exceed its timeoutMs/,
      'a timeout longer than the lock cap cannot be held by a lock'
    )
  }
)

t.test('a worker only claims the job types it has handlers for', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  queue.define(WORK, async () => undefined)
  const other = await queue.enqueue('test.queue.other', { n: 1 })
  t.equal(await queue.runDue(), 0)
  t.match(await jobRow(kronus, other!.id), { status: 'enqueued', attempts: 0 })
})

t.test('no more than `concurrency` jobs run at once', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 2 })
  let running = 0
  let most = 0
  queue.define(WORK, async () => {
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setImmediate(resolve))
    running--
  })
  for (let n = 0; n < 5; n++) await queue.enqueue(WORK, { n })
  t.equal(await queue.runDue(), 2)
  await queue.drain()
  t.equal(most, 2)
  const [{ n }] = await kronus.knex('jobs').where({ status: 'successful' }).count({ n: '*' })
  t.equal(Number(n), 5)
})

t.test(
  'jobs in one lane run one at a time in id order; a failing one holds back the rest until it is dead',
  async (t) => {
    const kronus = await buildKronus(t)
    const queue = queueFor(kronus)
    const order: number[] = []
    queue.define(
      WORK,
      async (payload) => {
        order.push(payload.n)
        if (payload.n === 1) throw new Error('first fails')
      },
      { maxAttempts: 2 }
    )
    await queue.enqueue(WORK, { n: 1 }, { lane: 'user:1' })
    await queue.enqueue(WORK, { n: 2 }, { lane: 'user:1' })
    await queue.enqueue(WORK, { n: 3 }, { lane: 'user:2' })

    t.equal(await queue.runDue(), 2, 'one job from each lane')
    t.same(order.sort(), [1, 3])
    kronus.clock.advance(retryDelayMs(1))
    t.equal(await queue.runDue(), 1)
    t.same(order, [1, 3, 1], 'the retry, not the later job of its lane')
    t.equal(await queue.runDue(), 1)
    t.same(order, [1, 3, 1, 2], 'the later job runs once the first is dead')
  }
)

t.test('a job this process enqueues while its worker runs starts at once, not at the next poll', async (t) => {
  const kronus = await buildKronus(t)
  // A poll a minute: only the enqueue itself can start the job within the test.
  const queue = queueFor(kronus, { pollIntervalMs: 60_000 })
  const ran = gate<number>()
  queue.define(WORK, async (payload) => ran.open(payload.n))
  queue.start()
  t.teardown(() => queue.stop())
  await queue.runDue()
  await queue.enqueue(WORK, { n: 7 })
  const hangGuard = new Promise<string>((resolve) => setTimeout(() => resolve('not started'), 20_000).unref())
  t.equal(await Promise.race([ran.promise, hangGuard]), 7, 'started without a poll')
})

t.test('jobs that end together are each recorded once, successful, and stop() waits for the records', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { concurrency: 4 })
  queue.define(WORK, async () => undefined)
  const ids: number[] = []
  for (let n = 0; n < 10; n++) ids.push((await queue.enqueue(WORK, { n }))!.id)
  queue.start()
  await new Promise((resolve) => setTimeout(resolve, 50))
  await queue.drain()
  await queue.stop()
  for (const id of ids) t.match(await jobRow(kronus, id), { status: 'successful', attempts: 1, locked_by: null })
})

t.test('cancel removes a waiting job by key', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  let runs = 0
  queue.define(WORK, async () => {
    runs++
  })
  await queue.enqueue(WORK, { n: 1 }, { key: 'follow-up:1', runAt: kronus.clock.now() + 60_000 })
  t.equal(await queue.cancel('follow-up:1'), true)
  t.equal(await queue.cancel('follow-up:1'), false)
  kronus.clock.advance(60_000)
  t.equal(await queue.runDue(), 0)
  t.equal(runs, 0)
})

t.test('graceful stop lets a running job finish within the wait', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus)
  const started = gate()
  const release = gate()
  queue.define(WORK, async () => {
    started.open()
    await release.promise
  })
  const job = await queue.enqueue(WORK, { n: 1 })
  const pass = queue.runDue()
  await started.promise
  const stopping = queue.stop(60_000)
  release.open()
  await stopping
  t.equal(await pass, 1)
  t.match(await jobRow(kronus, job!.id), { status: 'successful', locked_by: null })
})

t.test(
  'graceful stop waits a bounded time, then aborts and puts unfinished jobs back, claimed by nobody',
  async (t) => {
    const kronus = await buildKronus(t)
    const queue = queueFor(kronus)
    const started = gate()
    let signal: AbortSignal | undefined
    queue.define(WORK, async (_payload, run) => {
      signal = run.signal
      started.open()
      await new Promise(() => undefined)
    })
    const job = await queue.enqueue(WORK, { n: 1 })
    const pass = queue.runDue()
    await started.promise
    t.match(await jobRow(kronus, job!.id), { status: 'in-progress', attempts: 1 })

    await queue.stop(10)
    t.type(signal?.reason, WorkerStoppingError)
    // The pass ends once the job is put back; stop() only waits so long for that write.
    t.equal(await pass, 1)
    t.match(await jobRow(kronus, job!.id), {
      status: 'enqueued',
      attempts: 0,
      locked_by: null,
      locked_at: null,
      lock_expires_at: null
    })
    t.equal(await queue.runDue(), 0, 'a stopped queue claims nothing')

    const successor = queueFor(kronus)
    let attempt = 0
    successor.define(WORK, async (_payload, run) => {
      attempt = run.attempt
    })
    t.equal(await successor.runDue(), 1)
    t.equal(attempt, 1, 'the interrupted attempt was given back')
    t.match(await jobRow(kronus, job!.id), { status: 'successful' })
  }
)

t.test('successful jobs older than the configured age are pruned; others are kept', async (t) => {
  const kronus = await buildKronus(t)
  const queue = queueFor(kronus, { pruneSuccessfulAfterMs: 24 * 3600_000 })
  queue.define(WORK, async (payload) => {
    if (payload.n === 2) throw new PermanentJobError('bad')
  })
  const old = await queue.enqueue(WORK, { n: 1 })
  const dead = await queue.enqueue(WORK, { n: 2 })
  await queue.drain()
  kronus.clock.advance(20 * 3600_000)
  const recent = await queue.enqueue(WORK, { n: 3 })
  await queue.drain()
  const waiting = await queue.enqueue(WORK, { n: 4 }, { runAt: kronus.clock.now() + 3600_000 })

  kronus.clock.advance(4 * 3600_000 + 1)
  t.equal(await queue.prune(), 1)
  const left = (await kronus.knex('jobs').select('id').orderBy('id')).map((r) => Number(r.id))
  t.same(left, [dead!.id, recent!.id, waiting!.id])
  t.notOk(left.includes(old!.id))
})

t.test(
  "jobs.defaultTimeoutMs and jobs.lockMarginMs set how long a claim holds a job: how soon a dead worker's job runs elsewhere",
  async (t) => {
    // Long enough that the run cannot time out while the test reads the row, however busy the machine.
    const kronus = await buildKronus(t, { config: { jobs: { defaultTimeoutMs: 120_000, lockMarginMs: 60_000 } } })
    const started = gate()
    const release = gate()
    kronus.queue.define(WORK, async () => {
      started.open()
      await release.promise
    })
    const job = await kronus.queue.enqueue(WORK, { n: 1 })
    const claimedAt = kronus.clock.now()
    const pass = kronus.queue.runDue()
    await started.promise
    t.match(await jobRow(kronus, job!.id), { status: 'in-progress', locked_by: kronus.queue.workerId })
    t.equal(
      Number((await jobRow(kronus, job!.id)).lock_expires_at),
      claimedAt + 180_000,
      'the configured timeout plus the margin'
    )
    release.open()
    await pass
  }
)
