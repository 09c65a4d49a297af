import { setTimeout as sleep } from 'node:timers/promises'
import { AllocationProfile } from './lib/alloc-profile.js'
import { runCaseProcess } from './lib/child.js'
import { type BenchDatabaseSpec, databaseBytes } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import { formatBytes, type ResultRow, row } from './lib/result.js'
import { RssSampler } from './lib/rss.js'
import { dailyCronAt } from './lib/seed.js'

export interface FanoutParams {
  users: number
  /** Give up this long after the fire time and report how far it got. */
  timeoutMs: number
}

/** The targets: 100k users in under a minute, peaking under 200 MiB with no heap cap flag (issue 17; it was 300 MB). */
export const FANOUT_TARGET_SECONDS = 60
export const FANOUT_TARGET_RSS_BYTES = 200 * 1024 * 1024

const MINUTE = 60_000

/** The first whole minute at least `leadMs` from now. */
function nextMinute(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / MINUTE) * MINUTE
}

export function usersLabel(users: number): string {
  return users >= 1000 && users % 1000 === 0 ? `${users / 1000}k` : String(users)
}

/**
 * N users whose daily schedules all fire in the same minute. Kronus runs as in
 * production (kronus.start(): HTTP server, scheduler ticker, queue workers at the
 * configured concurrency, system clock, the built-in plugins `kronus server` loads), and
 * the stopwatch runs from the fire time until the last probe text reaches the channel.
 */
export async function fanoutCase(spec: BenchDatabaseSpec, params: FanoutParams): Promise<ResultRow[]> {
  const { users } = params
  const placeholder = nextMinute(86_400_000)
  // Seeded by a process of its own: the heap a 100k-row seed leaves behind is the
  // benchmark's, not the daemon's, and would otherwise be counted in its peak RSS.
  await runCaseProcess<null>({
    bench: 'seed',
    db: spec,
    params: { users, nextFireAt: placeholder, cron: dailyCronAt(placeholder) }
  })
  const { kronus, channel } = await buildBenchKronus(spec, {}, { builtins: true })
  const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
  const allocFile = process.env.KRONUS_BENCH_ALLOC_PROFILE
  const seededBytes = await databaseBytes(spec, kronus.knex)

  // Chosen after seeding, so the wait is under a minute whatever the seeding took.
  const fireAt = nextMinute(5_000)
  await kronus.knex('probe_settings').update({ cron_expression: dailyCronAt(fireAt), next_fire_at: fireAt })

  const queries = profileFile ? new QueryProfile().attach(kronus.knex) : null
  const allocations = allocFile ? new AllocationProfile(process.env.KRONUS_BENCH_ALLOC_SURVIVORS === '1') : null
  let started = 0
  let allStartedAt: number | null = null
  kronus.events.on('probe.started', () => {
    started += 1
    if (started === users) allStartedAt = Date.now()
  })

  const rss = new RssSampler().start()
  let rssAtStart = 0
  let timedOut = false
  let endAt: number
  let cpu: NodeJS.CpuUsage
  try {
    await kronus.start()
    rssAtStart = process.memoryUsage().rss
    // From start-up to the last text: what the wait and the fire allocate, by call site.
    await allocations?.start()
    await sleep(Math.max(0, fireAt - Date.now()))
    const cpuAtFire = process.cpuUsage()
    const deadline = sleep(fireAt + params.timeoutMs - Date.now(), 'timeout' as const)
    timedOut = (await Promise.race([channel.waitFor(users).then(() => 'done' as const), deadline])) === 'timeout'
    endAt = timedOut ? Date.now() : channel.lastAt!
    cpu = process.cpuUsage(cpuAtFire)
  } finally {
    rss.stop()
  }
  queries?.write(`${profileFile}.${spec.kind}.${users}.txt`)
  await allocations?.stopAndWrite(`${allocFile}.${spec.kind}.${users}`)
  // Schedules the scheduler has already moved past this fire (all of them unless stopped early).
  const [{ n: scheduled }] = await kronus.knex('probe_settings').where('next_fire_at', '>', fireAt).count({ n: '*' })
  const bytes = await databaseBytes(spec, kronus.knex)
  await kronus.stop('benchmark finished')

  const elapsed = (endAt - fireAt) / 1000
  const label = usersLabel(users)
  const rate = channel.count / elapsed
  // Stopped early: the rate of texts so far, kept up, gives the time the whole fan-out
  // would take. Texts are the last stage, so this errs on the slow side.
  const seconds = timedOut ? (channel.count > 0 ? (elapsed * users) / channel.count : Infinity) : elapsed
  const progress = timedOut
    ? `PROJECTED from the first ${elapsed.toFixed(0)} s: ${scheduled} schedules fired, ${started} probes started, ${channel.count} texts sent of ${users} each; `
    : ''
  // Near 100 % the process itself is the bottleneck; well below, it waits for the database.
  const cpuShare = ((cpu!.user + cpu!.system) / 1000 / (endAt - fireAt)) * 100
  const phases = [
    channel.firstAt === null ? 'no text sent' : `first text at +${((channel.firstAt - fireAt) / 1000).toFixed(1)} s`,
    allStartedAt === null
      ? 'not all probes started'
      : `all probes started at +${((allStartedAt - fireAt) / 1000).toFixed(1)} s`
  ]
  return [
    row({
      bench: 'fanout',
      subject: `${label} users: fire time → last probe text${timedOut ? ' (projected)' : ''}`,
      db: spec.kind,
      value: seconds,
      unit: 's',
      limit: FANOUT_TARGET_SECONDS,
      limitLabel: `${FANOUT_TARGET_SECONDS} s target`,
      lowerIsBetter: true,
      detail: `${progress}${rate.toFixed(0)} texts/s; ${phases.join(', ')}; Kronus process CPU ${cpuShare.toFixed(0)} % of a core`
    }),
    row({
      bench: 'fanout',
      subject: `${label} users: peak RSS`,
      db: spec.kind,
      value: rss.peak / 1024 / 1024,
      unit: 'MiB',
      limit: FANOUT_TARGET_RSS_BYTES / 1024 / 1024,
      limitLabel: `${FANOUT_TARGET_RSS_BYTES / 1024 / 1024} MiB target`,
      lowerIsBetter: true,
      detail: `sampled every 100 ms from start-up to ${timedOut ? `+${elapsed.toFixed(0)} s` : 'the last text'}; ${(rssAtStart / 1024 / 1024).toFixed(0)} MiB once started, before the fire; ${rss.describePeak()}`
    }),
    row({
      bench: 'fanout',
      subject: `${label} users: database size after`,
      db: spec.kind,
      value: bytes / 1024 / 1024,
      unit: 'MiB',
      limit: null,
      limitLabel: '—',
      lowerIsBetter: true,
      detail: `${formatBytes(seededBytes)} seeded before the fire (users, schedules, contacts)${timedOut ? `; after ${channel.count} of ${users} probes` : ''}`
    })
  ]
}
