/*
 * npm run bench [-- flags]: what Kronus exists for, each figure beside its limit on the
 * same machine in the same run. Every case runs in a child process of its own (see
 * case.ts); this process only orders them, loads the API with autocannon and prints.
 * `npm run bench -- --help` lists the flags.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, type as osType, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { API_ROUTES, type ApiRoute, type ApiTarget, apiRows, type LoadResult } from './api.js'
import type { CaseRequest } from './case.js'
import { usersLabel } from './fanout.js'
import { type IdleMeasurement, idleRows } from './idle.js'
import { KRONUS_NODE_FLAGS, runCaseProcess } from './lib/child.js'
import {
  adminQuery,
  BENCH_DBS,
  type BenchDatabaseSpec,
  type BenchDb,
  createBenchDatabase,
  removeBenchDatabase
} from './lib/database.js'
import { fetchBody, loadTarget } from './lib/load.js'
import type { ResultRow } from './lib/result.js'
import { markdownTable, textRow, textTable } from './lib/table.js'
import { type QueueMeasurement, type QueueSystem, queueRows } from './queue.js'
import { SERVER_RSS_CONFIGS, type ServerRssMeasurement, serverRssRows } from './server-rss.js'

const BENCHES = ['fanout', 'queue', 'api', 'idle', 'alarm', 'rss'] as const
type Bench = (typeof BENCHES)[number]
/** The fan-out bench's cases: the schedules' fire, the check-ins then left unanswered, their replies, and durable event deliveries. */
const FANOUT_CASES = ['fire', 'follow-ups', 'replies', 'deliveries'] as const
type FanoutCase = (typeof FANOUT_CASES)[number]

function listOf<T extends string>(allowed: readonly T[], flag: string) {
  return (value: string): T[] => {
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
    for (const item of items) {
      if (!allowed.includes(item as T))
        throw new InvalidArgumentError(`${flag}: "${item}" is not one of ${allowed.join(', ')}`)
    }
    if (items.length === 0) throw new InvalidArgumentError(`${flag} needs at least one of ${allowed.join(', ')}`)
    return items as T[]
  }
}

function positive(flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} must be a positive number, got "${value}"`)
    return n
  }
}

function counts(value: string): number[] {
  return value.split(',').map((s) => {
    const n = Number(s.trim().replace(/k$/i, '000'))
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--users: "${s}" is not a positive whole number`)
    return n
  })
}

const program = new Command('npm run bench --')
  .description(
    "Kronus benchmarks: scheduler fan-out, queue throughput, API latency, idle cost, alarm latency and an idle server's memory, each beside its limit."
  )
  .option('--only <benches>', `comma-separated: ${BENCHES.join(',')}`, listOf(BENCHES, '--only'), [...BENCHES])
  .option('--db <dbs>', `comma-separated: ${BENCH_DBS.join(',')}`, listOf(BENCH_DBS, '--db'), [...BENCH_DBS])
  .option('--users <counts>', 'fan-out sizes, e.g. 1000,10000,100000 (or 1k,10k,100k)', counts)
  .option(
    '--quick',
    'a shorter run: fan-out 1k and 10k, idle with 10k users for 20 s, 1000 queue jobs, 5 s of API load'
  )
  .option(
    '--fanout-cases <cases>',
    `fan-out cases, comma-separated: ${FANOUT_CASES.join(',')} (fire: schedules' fire time → last probe text; follow-ups: check-ins left unanswered, due time → last follow-up text; replies: a Y from every user posted to the SMS webhook, first post → last probe good; deliveries: an event per user to a durable subscriber, start → last delivered)`,
    listOf(FANOUT_CASES, '--fanout-cases'),
    [...FANOUT_CASES]
  )
  .option(
    '--fanout-timeout <seconds>',
    'stop a fan-out this long after its fire time (the 60 s target by default) and project the total from its progress',
    positive('--fanout-timeout'),
    60
  )
  .option(
    '--reply-posters <count>',
    'replies case: requests in flight at once, as Twilio posts texts that arrive together (default 64)',
    positive('--reply-posters'),
    64
  )
  .option('--jobs <count>', 'jobs per queue run (default 2000; 1000 with --quick)', positive('--jobs'))
  .option('--producers <count>', 'jobs enqueued at the same time', positive('--producers'), 4)
  .option('--pg-boss-workers <count>', 'pg-boss work() calls', positive('--pg-boss-workers'), 4)
  .option('--pg-boss-batch <count>', 'jobs each pg-boss worker fetches at a time', positive('--pg-boss-batch'), 100)
  .option('--connections <count>', 'autocannon connections', positive('--connections'), 10)
  .option('--duration <seconds>', 'autocannon seconds per run (default 10; 5 with --quick)', positive('--duration'))
  .option(
    '--api-runs <count>',
    'measured autocannon runs per API target; the median is reported (default 3)',
    positive('--api-runs')
  )
  .option(
    '--idle-users <count>',
    'users of the idle server (default 100000; 10000 with --quick)',
    positive('--idle-users')
  )
  .option('--idle-seconds <seconds>', 'idle window (default 60; 20 with --quick)', positive('--idle-seconds'))
  .option(
    '--idle-baseline-seconds <seconds>',
    'idle window of the server with no users (default 20)',
    positive('--idle-baseline-seconds')
  )
  .option(
    '--concurrency <count>',
    'jobs.concurrency of every Kronus the run starts (default: the configured default, 4)',
    positive('--concurrency')
  )
  .option(
    '--rss-seconds <seconds>',
    'rss: how long the built server is left idle before its RSS is read (default 60; 45 with --quick)',
    positive('--rss-seconds')
  )
  .option('--alarms <count>', 'alarm: alarms raised and timed, one after the other (default 5)', positive('--alarms'))
  .option('--cpu-prof', 'write a V8 CPU profile of every case process (to <tmpdir>/kronus-bench-profiles)')
  .option(
    '--node-flags <flags>',
    "more node flags for every case process and rss's server, space-separated, e.g. --heap-growing-percent=0 (V8's own heap growth, not kronus server's)"
  )
  .option(
    '--trace-gc',
    "log V8's collections in every case process (node --trace-gc-nvp), kept in the case's log file, whose path is printed with the bytes its scavenges promoted"
  )
  .option(
    '--query-profile <prefix>',
    'fan-out: write the time spent per SQL statement shape to <prefix>.<db>.<users>.txt'
  )
  .option(
    '--alloc-profile <prefix>',
    'fan-out: write the bytes allocated by call site, garbage included, to <prefix>.<db>.<users>.heapprofile and .txt (the sampling slows the case)'
  )
  .option(
    '--alloc-survivors',
    'with --alloc-profile: only objects that outlived the young generation (promoted to the old space)'
  )
  .option('--json <file>', 'also write the rows as JSON')
  .option('--markdown', 'print the final table as Markdown')
  .parse()

const flags = program.opts<{
  only: Bench[]
  db: BenchDb[]
  users?: number[]
  quick?: boolean
  fanoutCases: FanoutCase[]
  fanoutTimeout: number
  replyPosters: number
  jobs?: number
  producers: number
  pgBossWorkers: number
  pgBossBatch: number
  connections: number
  duration?: number
  apiRuns?: number
  idleUsers?: number
  idleSeconds?: number
  idleBaselineSeconds?: number
  concurrency?: number
  alarms?: number
  rssSeconds?: number
  cpuProf?: boolean
  nodeFlags?: string
  traceGc?: boolean
  queryProfile?: string
  allocProfile?: string
  allocSurvivors?: boolean
  json?: string
  markdown?: boolean
}>()
const quick = flags.quick === true
const settings = {
  users: flags.users ?? (quick ? [1000, 10_000] : [1000, 10_000, 100_000]),
  fanoutTimeoutMs: flags.fanoutTimeout * 1000,
  jobs: flags.jobs ?? (quick ? 1000 : 2000),
  duration: flags.duration ?? (quick ? 5 : 10),
  apiRuns: flags.apiRuns ?? 3,
  idleUsers: flags.idleUsers ?? (quick ? 10_000 : 100_000),
  idleSeconds: flags.idleSeconds ?? (quick ? 20 : 60),
  idleBaselineSeconds: flags.idleBaselineSeconds ?? 20,
  alarms: flags.alarms ?? (quick ? 3 : 5),
  rssSeconds: flags.rssSeconds ?? (quick ? 45 : 60)
}
// Case processes inherit the environment; lib/kronus.ts and fanout.ts read it.
if (flags.concurrency) process.env.KRONUS_BENCH_CONCURRENCY = String(flags.concurrency)
if (flags.queryProfile) process.env.KRONUS_BENCH_QUERY_PROFILE = flags.queryProfile
if (flags.allocProfile) process.env.KRONUS_BENCH_ALLOC_PROFILE = flags.allocProfile
if (flags.allocSurvivors) process.env.KRONUS_BENCH_ALLOC_SURVIVORS = '1'
const profileDir = join(tmpdir(), 'kronus-bench-profiles')
const extraNodeFlags = flags.nodeFlags?.split(/\s+/).filter(Boolean) ?? []
const nodeArgs = [
  ...extraNodeFlags,
  ...(flags.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  ...(flags.traceGc ? ['--trace-gc-nvp'] : [])
]
if (flags.cpuProf) mkdirSync(profileDir, { recursive: true })

const rows: ResultRow[] = []
const failures: string[] = []

function report(newRows: ResultRow[]): void {
  for (const row of newRows) {
    rows.push(row)
    console.log(textRow(row))
  }
}

/** A case on a fresh database that is removed afterwards, whatever happens. */
async function onFreshDatabase<T>(kind: BenchDb, run: (db: BenchDatabaseSpec) => Promise<T>): Promise<T> {
  const db = await createBenchDatabase(kind)
  try {
    return await run(db)
  } finally {
    await removeBenchDatabase(db)
  }
}

async function attempt(what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run()
  } catch (err) {
    failures.push(`${what}: ${(err as Error).message}`)
    console.error(`FAILED ${what}: ${(err as Error).message}`)
  }
}

function runCase<T>(request: CaseRequest, onReady?: (target: ApiTarget) => Promise<void>): Promise<T> {
  return runCaseProcess<T>(request, {
    nodeArgs,
    keepLog: flags.traceGc === true,
    onReady: onReady && ((ready) => onReady({ url: ready.url, headers: ready.headers }))
  })
}

async function fanout(): Promise<void> {
  for (const kind of flags.db) {
    for (const users of settings.users) {
      if (flags.fanoutCases.includes('fire')) {
        await attempt(`fanout ${usersLabel(users)} on ${kind}`, async () => {
          console.log(
            `… fanout: ${usersLabel(users)} users on ${kind} (waits for the next whole minute, then up to ${flags.fanoutTimeout} s)`
          )
          report(
            await onFreshDatabase(kind, (db) =>
              runCase<ResultRow[]>({ bench: 'fanout', db, params: { users, timeoutMs: settings.fanoutTimeoutMs } })
            )
          )
        })
      }
      if (flags.fanoutCases.includes('follow-ups')) {
        await attempt(`follow-ups ${usersLabel(users)} on ${kind}`, async () => {
          console.log(
            `… follow-ups: ${usersLabel(users)} check-ins unanswered on ${kind} (due at the next whole minute, then up to ${flags.fanoutTimeout} s)`
          )
          report(
            await onFreshDatabase(kind, (db) =>
              runCase<ResultRow[]>({ bench: 'follow-ups', db, params: { users, timeoutMs: settings.fanoutTimeoutMs } })
            )
          )
        })
      }
      if (flags.fanoutCases.includes('replies')) {
        await attempt(`replies ${usersLabel(users)} on ${kind}`, async () => {
          console.log(
            `… replies: ${usersLabel(users)} "Y" replies posted to the SMS webhook on ${kind} (up to ${flags.fanoutTimeout} s)`
          )
          report(
            await onFreshDatabase(kind, (db) =>
              runCase<ResultRow[]>({
                bench: 'replies',
                db,
                params: { users, timeoutMs: settings.fanoutTimeoutMs, posters: flags.replyPosters }
              })
            )
          )
        })
      }
      if (flags.fanoutCases.includes('deliveries')) {
        await attempt(`deliveries ${usersLabel(users)} on ${kind}`, async () => {
          console.log(
            `… deliveries: ${usersLabel(users)} events to a durable subscriber on ${kind} (up to ${flags.fanoutTimeout} s)`
          )
          report(
            await onFreshDatabase(kind, (db) =>
              runCase<ResultRow[]>({ bench: 'deliveries', db, params: { users, timeoutMs: settings.fanoutTimeoutMs } })
            )
          )
        })
      }
    }
  }
}

async function queue(): Promise<void> {
  const measurements: QueueMeasurement[] = []
  for (const kind of flags.db) {
    const systems: QueueSystem[] = kind === 'postgres' ? ['raw', 'kronus', 'pgboss'] : ['raw', 'kronus']
    for (const system of systems) {
      await attempt(`queue ${system} on ${kind}`, async () => {
        console.log(`… queue: ${system} on ${kind}, ${settings.jobs} jobs`)
        const params = {
          system,
          jobs: settings.jobs,
          producers: flags.producers,
          pgBossWorkers: flags.pgBossWorkers,
          pgBossBatchSize: flags.pgBossBatch
        }
        measurements.push(
          await onFreshDatabase(kind, (db) => runCase<QueueMeasurement>({ bench: 'queue', db, params }))
        )
      })
    }
  }
  report(queueRows(measurements))
}

async function api(): Promise<void> {
  const load = { connections: flags.connections, seconds: settings.duration, warmUpSeconds: 2, runs: settings.apiRuns }
  for (const route of Object.keys(API_ROUTES) as ApiRoute[]) {
    const params = { route, users: 1000, probesPerUser: 20 }
    const kronus = new Map<BenchDb, LoadResult>()
    const bareQuery = new Map<BenchDb, LoadResult>()
    let body: string | undefined
    for (const kind of flags.db) {
      await attempt(`api ${route} kronus on ${kind}`, async () => {
        console.log(
          `… api ${route}: kronus on ${kind}, ${flags.connections} connections, ${settings.apiRuns} × ${settings.duration} s`
        )
        await onFreshDatabase(kind, (db) =>
          runCase({ bench: 'api', db, params: { target: 'kronus', ...params } }, async (target) => {
            body ??= await fetchBody(target)
            kronus.set(kind, await loadTarget(target, load))
          })
        )
      })
      if (body === undefined) continue
      await attempt(`api ${route} bare hapi + query on ${kind}`, async () => {
        console.log(`… api ${route}: bare hapi + the same one indexed query on ${kind}`)
        await onFreshDatabase(kind, (db) =>
          runCase({ bench: 'api', db, params: { target: 'bare-query', ...params, body } }, async (target) => {
            bareQuery.set(kind, await loadTarget(target, load))
          })
        )
      })
    }
    if (body === undefined) continue
    await attempt(`api ${route} bare hapi`, async () => {
      console.log(
        `… api ${route}: bare hapi route, ${flags.connections} connections, ${settings.apiRuns} × ${settings.duration} s`
      )
      let bare: LoadResult | undefined
      await runCase({ bench: 'api', db: null, params: { target: 'bare', ...params, body } }, async (target) => {
        bare = await loadTarget(target, load)
      })
      for (const [kind, result] of kronus)
        report(apiRows(kind, route, result, bare!, bareQuery.get(kind), flags.connections, settings.duration))
    })
  }
}

async function idle(): Promise<void> {
  for (const kind of flags.db) {
    await attempt(`idle on ${kind}`, async () => {
      console.log(
        `… idle: ${usersLabel(settings.idleUsers)} users on ${kind} for ${settings.idleSeconds} s, then no users for ${settings.idleBaselineSeconds} s`
      )
      const loaded = await onFreshDatabase(kind, (db) =>
        runCase<IdleMeasurement>({
          bench: 'idle',
          db,
          params: { users: settings.idleUsers, seconds: settings.idleSeconds, settleSeconds: 10 }
        })
      )
      const empty = await onFreshDatabase(kind, (db) =>
        runCase<IdleMeasurement>({
          bench: 'idle',
          db,
          params: { users: 0, seconds: settings.idleBaselineSeconds, settleSeconds: 10 }
        })
      )
      report(idleRows(kind, loaded, empty))
    })
  }
}

/** Trigger → first alert text, with 10k check-in texts and 1k webhook deliveries queued (bench/alarm.ts). */
async function alarm(): Promise<void> {
  for (const kind of flags.db) {
    await attempt(`alarm on ${kind}`, async () => {
      console.log(`… alarm: ${settings.alarms} alarms on ${kind}, 10k check-in texts and 1k webhook deliveries queued`)
      report(
        await onFreshDatabase(kind, (db) =>
          runCase<ResultRow[]>({
            bench: 'alarm',
            db,
            params: { checkIns: 10_000, webhooks: 1000, alarms: settings.alarms }
          })
        )
      )
    })
  }
}

/** `kronus server` from dist/, idle on a fresh database: its RSS beside the 100 MiB target (bench/server-rss.ts). */
async function rss(): Promise<void> {
  for (const kind of flags.db) {
    for (const config of SERVER_RSS_CONFIGS) {
      await attempt(`rss on ${kind} (${config})`, async () => {
        console.log(`… rss: kronus server (dist, ${config} config) on ${kind}, idle for ${settings.rssSeconds} s`)
        const serverFlags = [...KRONUS_NODE_FLAGS, ...extraNodeFlags]
        const params = { seconds: settings.rssSeconds, nodeArgs: serverFlags, config }
        const measured = await onFreshDatabase(kind, (db) =>
          runCase<ServerRssMeasurement>({ bench: 'rss', db, params })
        )
        report(serverRssRows(kind, measured, serverFlags, config))
      })
    }
  }
}

async function postgresVersion(): Promise<string> {
  try {
    const result = await adminQuery('SHOW server_version')
    return `PostgreSQL ${result.rows[0].server_version}`
  } catch (err) {
    return `PostgreSQL unreachable (${(err as Error).message})`
  }
}

const started = Date.now()
const cpu = cpus()
console.log(`Kronus benchmarks — ${new Date(started).toISOString()}`)
console.log(
  `machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${osType()} ${release()}, Node ${process.versions.node}`
)
if (flags.db.includes('postgres'))
  console.log(`database: ${await postgresVersion()}; SQLCipher via @journeyapps/sqlcipher`)
const load = loadavg()[0]!
console.log(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${load > 1.5 ? '  (the machine is busy: figures will be lower than on an idle machine)' : ''}`
)
console.log(
  `settings: ${JSON.stringify({ only: flags.only, db: flags.db, ...settings, concurrency: flags.concurrency ?? 'default' })}\n`
)

const run: Record<Bench, () => Promise<void>> = { fanout, queue, api, idle, alarm, rss }
/** The one-minute load average before and after each benchmark: what else the machine was doing meanwhile. */
const loads: Array<{ bench: Bench; before: number; after: number }> = []
for (const bench of BENCHES) {
  if (!flags.only.includes(bench)) continue
  const before = loadavg()[0]!
  console.log(`── ${bench}: load average before ${before.toFixed(2)}`)
  await run[bench]()
  const after = loadavg()[0]!
  console.log(`── ${bench}: load average after ${after.toFixed(2)}`)
  loads.push({ bench, before, after })
}

console.log(
  `\nload average at end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; took ${((Date.now() - started) / 60_000).toFixed(1)} min\n`
)
console.log(flags.markdown ? markdownTable(rows) : textTable(rows))
console.log(
  `\none-minute load average before → after each benchmark: ${loads.map((l) => `${l.bench} ${l.before.toFixed(2)} → ${l.after.toFixed(2)}`).join('; ')}`
)
console.log(
  '\nratio = result / limit. Fan-out limits are the targets (100k users in under 60 s, peaking under 200 MiB), the alarm limit the 5 s target, the rss limit the 100 MiB target; the others are the same work done by the simplest thing that can do it.'
)
if (flags.json)
  writeFileSync(
    flags.json,
    JSON.stringify({ started: new Date(started).toISOString(), settings, loads, rows, failures }, null, 2)
  )
if (flags.cpuProf) console.log(`CPU profiles: ${profileDir}`)
if (failures.length > 0) {
  console.error(`\n${failures.length} case(s) failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`)
  process.exitCode = 1
}
