import Hapi from '@hapi/hapi'
import { User } from '../src/db/models/index.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import type { ResultRow } from './lib/result.js'
import { seedUsers } from './lib/seed.js'

export interface ApiParams {
  target: 'kronus' | 'bare'
  /** Users in the database, and probes each has. */
  users: number
  probesPerUser: number
  /** bare only: the body to answer with (Kronus's own answer, so both send the same bytes). */
  body?: string
}

/** Where the load goes; the runner points autocannon at it. */
export interface ApiTarget {
  url: string
  headers: Record<string, string>
}

export interface LoadResult {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
  bodyBytes: number
}

const DAY = 86_400_000

/**
 * Kronus as it runs (default logging, so each request writes its log line), serving the
 * probe list of user 1 to user 1's bearer token. The token is signed directly: the
 * seeded users have no passwords.
 */
async function kronusTarget(
  spec: BenchDatabaseSpec,
  params: ApiParams,
  serve: (target: ApiTarget) => Promise<void>
): Promise<void> {
  const { kronus } = await buildBenchKronus(spec)
  try {
    const tomorrow = Math.ceil((Date.now() + DAY) / 60_000) * 60_000
    await seedUsers(kronus.knex, {
      users: params.users,
      nextFireAt: tomorrow,
      cron: '0 9 * * *',
      probesPerUser: params.probesPerUser
    })
    const user = await User.query(kronus.knex).findById(1)
    if (!user) throw new Error('seeded user 1 is missing')
    const token = kronus.services.auth.signToken(user)
    await kronus.start()
    await serve({ url: `${kronus.server.info.uri}/v1/users/1/probes`, headers: { authorization: `Bearer ${token}` } })
  } finally {
    await kronus.stop('benchmark finished')
  }
}

/** The limit: hapi alone, one route, the same path and the same response bytes, no auth, no database. */
async function bareTarget(params: ApiParams, serve: (target: ApiTarget) => Promise<void>): Promise<void> {
  const body = params.body ?? '{}'
  const server = Hapi.server({ port: 0, host: '127.0.0.1' })
  server.route({
    method: 'GET',
    path: '/v1/users/{uid}/probes',
    handler: (_request, h) => h.response(body).type('application/json')
  })
  await server.start()
  try {
    await serve({ url: `${server.info.uri}/v1/users/1/probes`, headers: {} })
  } finally {
    await server.stop()
  }
}

export async function apiCase(
  spec: BenchDatabaseSpec | null,
  params: ApiParams,
  serve: (target: ApiTarget) => Promise<void>
): Promise<void> {
  if (params.target === 'bare') return bareTarget(params, serve)
  if (!spec) throw new Error('the kronus API case needs a database')
  return kronusTarget(spec, params, serve)
}

export function apiRows(
  db: string,
  kronus: LoadResult,
  bare: LoadResult,
  connections: number,
  seconds: number
): ResultRow[] {
  const load = `${connections} connections, ${seconds} s, ${kronus.bodyBytes}-byte body`
  const health = (r: LoadResult) => (r.errors || r.non2xx ? `; ${r.errors} errors, ${r.non2xx} non-2xx` : '')
  return [
    {
      bench: 'api',
      subject: 'GET /v1/users/{uid}/probes (authenticated): throughput',
      db,
      value: kronus.requestsPerSecond,
      unit: 'req/s',
      limit: bare.requestsPerSecond,
      limitLabel: `${bare.requestsPerSecond.toFixed(0)} req/s bare hapi`,
      ratio: kronus.requestsPerSecond / bare.requestsPerSecond,
      lowerIsBetter: false,
      detail: `${load}; ${kronus.requests} requests${health(kronus)}`
    },
    {
      bench: 'api',
      subject: 'GET /v1/users/{uid}/probes (authenticated): p99 latency',
      db,
      value: kronus.p99Ms,
      unit: 'ms',
      limit: bare.p99Ms,
      limitLabel: `${bare.p99Ms} ms bare hapi`,
      ratio: bare.p99Ms === 0 ? null : kronus.p99Ms / bare.p99Ms,
      lowerIsBetter: true,
      detail: `p50 ${kronus.p50Ms} ms (bare hapi ${bare.p50Ms} ms)${health(bare)}`
    }
  ]
}
