import { setTimeout as sleep } from 'node:timers/promises'
import { usersLabel } from './fanout.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import type { ResultRow } from './lib/result.js'
import { dailyCronAt, seedUsers } from './lib/seed.js'

export interface IdleParams {
  users: number
  /** Measured window. */
  seconds: number
  /** Left alone after start-up (first ticks, pruning, server.started) before measuring. */
  settleSeconds: number
}

export interface IdleMeasurement {
  users: number
  seconds: number
  /** User + system CPU of the process over the window, in ms. */
  cpuMs: number
  queries: number
}

const DAY = 86_400_000

/** A started Kronus whose users' probes are all due tomorrow: what does waiting cost? */
export async function idleCase(spec: BenchDatabaseSpec, params: IdleParams): Promise<IdleMeasurement> {
  const { kronus } = await buildBenchKronus(spec, {}, { builtins: true })
  try {
    const tomorrow = Math.ceil((Date.now() + DAY) / 60_000) * 60_000
    if (params.users > 0)
      await seedUsers(kronus.knex, { users: params.users, nextFireAt: tomorrow, cron: dailyCronAt(tomorrow) })
    let queries = 0
    kronus.knex.on('query', () => {
      queries += 1
    })
    await kronus.start()
    await sleep(params.settleSeconds * 1000)
    queries = 0
    // `npm run bench -- --query-profile <prefix>`: what the idle server still asks, by statement.
    const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
    const profile = profileFile ? new QueryProfile().attach(kronus.knex) : null
    const cpu = process.cpuUsage()
    const started = performance.now()
    await sleep(params.seconds * 1000)
    const used = process.cpuUsage(cpu)
    const seconds = (performance.now() - started) / 1000
    profile?.write(`${profileFile}-idle-${spec.kind}-${params.users}.txt`)
    return { users: params.users, seconds, cpuMs: (used.user + used.system) / 1000, queries }
  } finally {
    await kronus.stop('benchmark finished')
  }
}

export function idleRows(db: string, loaded: IdleMeasurement, empty: IdleMeasurement): ResultRow[] {
  const cpuPercent = (m: IdleMeasurement) => (m.cpuMs / (m.seconds * 1000)) * 100
  const perMinute = (m: IdleMeasurement) => (m.queries / m.seconds) * 60
  const label = usersLabel(loaded.users)
  return [
    {
      bench: 'idle',
      subject: `idle, ${label} users not due: CPU`,
      db,
      value: cpuPercent(loaded),
      unit: '% of a core',
      limit: cpuPercent(empty),
      limitLabel: `${cpuPercent(empty).toFixed(2)} % with no users`,
      ratio: cpuPercent(loaded) / cpuPercent(empty),
      lowerIsBetter: true,
      detail: `${loaded.cpuMs.toFixed(0)} ms CPU over ${loaded.seconds.toFixed(0)} s`
    },
    {
      bench: 'idle',
      subject: `idle, ${label} users not due: queries`,
      db,
      value: perMinute(loaded),
      unit: 'queries/min',
      limit: perMinute(empty),
      limitLabel: `${perMinute(empty).toFixed(0)}/min with no users`,
      ratio: perMinute(loaded) / perMinute(empty),
      lowerIsBetter: true,
      detail: `${loaded.queries} queries over ${loaded.seconds.toFixed(0)} s (no users: over ${empty.seconds.toFixed(0)} s)`
    }
  ]
}
