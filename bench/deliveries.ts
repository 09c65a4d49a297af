import { FANOUT_TARGET_SECONDS, usersLabel } from './fanout.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import { type ResultRow, row } from './lib/result.js'
import { RssSampler } from './lib/rss.js'

export interface DeliveriesParams {
  users: number
  /** Give up this long after the start and report how far it got. */
  timeoutMs: number
}

/** Events recorded per transaction while the case is set up. */
const CHUNK = 5_000

/**
 * Durable event deliveries (issue 17, point 3): one event for each of N users waits for a
 * durable subscriber, as a fan-out leaves one probe.started per user for a plugin that
 * hears it. The events are recorded through the event log before Kronus starts (with the
 * built-in plugins, as in production); the stopwatch runs from kronus.start() until the
 * subscriber has the last of them. The subscriber only counts, so the figure is the cost
 * of the delivery itself: claim, event read, handler call and the job's end.
 */
export async function deliveriesCase(spec: BenchDatabaseSpec, params: DeliveriesParams): Promise<ResultRow[]> {
  const { users } = params
  const { kronus } = await buildBenchKronus(spec, {}, { builtins: true })
  let delivered = 0
  let allDelivered!: () => void
  const done = new Promise<void>((resolve) => {
    allDelivered = resolve
  })
  kronus.events.subscribe('bench-counter', 'user.updated', async () => {
    delivered += 1
    if (delivered === users) allDelivered()
  })
  for (let start = 1; start <= users; start += CHUNK) {
    const part = Array.from({ length: Math.min(CHUNK, users - start + 1) }, (_, i) => ({
      userId: start + i,
      fields: ['name']
    }))
    await kronus.knex.transaction((trx) => kronus.events.recordMany(trx, 'user.updated', part))
  }

  const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
  const queries = profileFile ? new QueryProfile().attach(kronus.knex) : null
  const rss = new RssSampler().start()
  let timedOut = false
  let startAt: number
  let endAt: number
  let cpu: NodeJS.CpuUsage
  try {
    const cpuAtStart = process.cpuUsage()
    startAt = Date.now()
    await kronus.start()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), params.timeoutMs)
    })
    timedOut = (await Promise.race([done.then(() => 'done' as const), deadline])) === 'timeout'
    clearTimeout(timer)
    endAt = Date.now()
    cpu = process.cpuUsage(cpuAtStart)
  } finally {
    rss.stop()
  }
  queries?.write(`${profileFile}.deliveries.${spec.kind}.${users}.txt`)
  await kronus.stop('benchmark finished')

  const elapsed = (endAt - startAt) / 1000
  const rate = delivered / elapsed
  const seconds = timedOut ? (delivered > 0 ? (elapsed * users) / delivered : Infinity) : elapsed
  const progress = timedOut ? `PROJECTED from the first ${elapsed.toFixed(0)} s: ${delivered} of ${users}; ` : ''
  const cpuShare = ((cpu!.user + cpu!.system) / 1000 / (endAt - startAt)) * 100
  return [
    row({
      bench: 'fanout',
      subject: `${usersLabel(users)} events to a durable subscriber: start → last delivered${timedOut ? ' (projected)' : ''}`,
      db: spec.kind,
      value: seconds,
      unit: 's',
      limit: FANOUT_TARGET_SECONDS,
      limitLabel: `${FANOUT_TARGET_SECONDS} s, as the fan-out (100k)`,
      lowerIsBetter: true,
      detail: `${progress}${rate.toFixed(0)} deliveries/s; Kronus process CPU ${cpuShare.toFixed(0)} % of a core; peak RSS ${(rss.peak / 1024 / 1024).toFixed(0)} MiB`
    })
  ]
}
