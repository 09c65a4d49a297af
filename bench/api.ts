import Hapi from '@hapi/hapi'
import type { Knex } from 'knex'
import { User } from '../src/db/models/index.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import type { ResultRow } from './lib/result.js'
import { seedUsers } from './lib/seed.js'

/** The routes measured: an authenticated list, and an authenticated single record. */
export const API_ROUTES = {
  probes: {
    label: 'GET /v1/users/{uid}/probes',
    path: '/v1/users/{uid}/probes',
    /** The one indexed query the route cannot do without: a page of the user's probes. */
    query: (knex: Knex) => knex('probes').where({ user_id: 1 }).orderBy('id', 'desc').limit(20)
  },
  user: {
    label: 'GET /v1/users/{uid}',
    path: '/v1/users/{uid}',
    query: (knex: Knex) => knex('users').where({ id: 1 }).first()
  }
} as const
export type ApiRoute = keyof typeof API_ROUTES

export interface ApiParams {
  /**
   * kronus: Kronus itself; bare: hapi alone answering Kronus's bytes; bare-query: the same
   * with the route's one indexed query on the same database before answering.
   */
  target: 'kronus' | 'bare' | 'bare-query'
  route: ApiRoute
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

/** One measured autocannon run. */
export interface LoadRun {
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  non2xx: number
}

/** The median of a target's runs (requests, errors and non2xx summed over all of them), and every run. */
export interface LoadResult extends LoadRun {
  bodyBytes: number
  runs: LoadRun[]
}

/** "3 runs: 410–440 req/s (±3.5 %), p99 55–61 ms": how far the runs behind a median were apart. */
export function spreadOf(result: LoadResult): string {
  const rps = result.runs.map((r) => r.requestsPerSecond)
  const p99 = result.runs.map((r) => r.p99Ms)
  const [lo, hi] = [Math.min(...rps), Math.max(...rps)]
  const plusMinus = result.requestsPerSecond > 0 ? (50 * (hi - lo)) / result.requestsPerSecond : 0
  return `${result.runs.length} runs: ${lo.toFixed(0)}–${hi.toFixed(0)} req/s (±${plusMinus.toFixed(1)} %), p99 ${Math.min(...p99)}–${Math.max(...p99)} ms`
}

const DAY = 86_400_000

/** The users (and their probes) every API target that reads the database serves from; nobody's check-in is due. */
async function seedForApi(knex: Knex, params: ApiParams): Promise<void> {
  const tomorrow = Math.ceil((Date.now() + DAY) / 60_000) * 60_000
  await seedUsers(knex, {
    users: params.users,
    nextFireAt: tomorrow,
    cron: '0 9 * * *',
    probesPerUser: params.probesPerUser
  })
}

/**
 * Kronus as it runs (default logging, so each request writes its log line), serving the
 * route for user 1 to user 1's bearer token. The token is signed directly: the seeded
 * users have no passwords.
 */
async function kronusTarget(
  spec: BenchDatabaseSpec,
  params: ApiParams,
  serve: (target: ApiTarget) => Promise<void>
): Promise<void> {
  const { kronus } = await buildBenchKronus(spec)
  try {
    await seedForApi(kronus.knex, params)
    const user = await User.query(kronus.knex).findById(1)
    if (!user) throw new Error('seeded user 1 is missing')
    const token = kronus.services.auth.signToken(user)
    await kronus.start()
    await serve({ url: urlOf(kronus.server.info.uri, params.route), headers: { authorization: `Bearer ${token}` } })
  } finally {
    await kronus.stop('benchmark finished')
  }
}

function urlOf(base: string, route: ApiRoute): string {
  return base + API_ROUTES[route].path.replace('{uid}', '1')
}

/**
 * The limits: hapi alone, one route, the same path and the same response bytes, no auth;
 * with `knex`, the route's one indexed query is run on the database before answering.
 */
async function bareTarget(params: ApiParams, serve: (target: ApiTarget) => Promise<void>, knex?: Knex): Promise<void> {
  const body = params.body ?? '{}'
  const route = API_ROUTES[params.route]
  const server = Hapi.server({ port: 0, host: '127.0.0.1' })
  server.route({
    method: 'GET',
    path: route.path,
    handler: async (_request, h) => {
      if (knex) await route.query(knex)
      return h.response(body).type('application/json')
    }
  })
  await server.start()
  try {
    await serve({ url: urlOf(server.info.uri, params.route), headers: {} })
  } finally {
    await server.stop()
  }
}

/** bare-query: the database seeded as for Kronus, queried through the same knex settings. */
async function bareQueryTarget(
  spec: BenchDatabaseSpec,
  params: ApiParams,
  serve: (target: ApiTarget) => Promise<void>
): Promise<void> {
  const { kronus } = await buildBenchKronus(spec)
  try {
    await seedForApi(kronus.knex, params)
    await bareTarget(params, serve, kronus.knex)
  } finally {
    await kronus.stop('benchmark finished')
  }
}

export async function apiCase(
  spec: BenchDatabaseSpec | null,
  params: ApiParams,
  serve: (target: ApiTarget) => Promise<void>
): Promise<void> {
  if (params.target === 'bare') return bareTarget(params, serve)
  if (!spec) throw new Error(`the ${params.target} API case needs a database`)
  if (params.target === 'bare-query') return bareQueryTarget(spec, params, serve)
  return kronusTarget(spec, params, serve)
}

export function apiRows(
  db: string,
  route: ApiRoute,
  kronus: LoadResult,
  bare: LoadResult,
  bareQuery: LoadResult | undefined,
  connections: number,
  seconds: number
): ResultRow[] {
  const label = `${API_ROUTES[route].label} (authenticated)`
  const load = `${connections} connections, ${seconds} s × ${kronus.runs.length} runs, ${kronus.bodyBytes}-byte body`
  const health = (r: LoadResult) => (r.errors || r.non2xx ? `; ${r.errors} errors, ${r.non2xx} non-2xx` : '')
  const rows: ResultRow[] = [
    {
      bench: 'api',
      subject: `${label}: throughput`,
      db,
      value: kronus.requestsPerSecond,
      unit: 'req/s',
      limit: bare.requestsPerSecond,
      limitLabel: `${bare.requestsPerSecond.toFixed(0)} req/s bare hapi`,
      ratio: kronus.requestsPerSecond / bare.requestsPerSecond,
      lowerIsBetter: false,
      detail: `${load}; ${kronus.requests} requests${health(kronus)}; ${spreadOf(kronus)}; bare hapi ${spreadOf(bare)}; target 0.25×`
    }
  ]
  if (bareQuery)
    rows.push({
      bench: 'api',
      subject: `${label}: throughput`,
      db,
      value: kronus.requestsPerSecond,
      unit: 'req/s',
      limit: bareQuery.requestsPerSecond,
      limitLabel: `${bareQuery.requestsPerSecond.toFixed(0)} req/s bare hapi + the same one indexed query`,
      ratio: kronus.requestsPerSecond / bareQuery.requestsPerSecond,
      lowerIsBetter: false,
      detail: `bare hapi + query: p50 ${bareQuery.p50Ms} ms, p99 ${bareQuery.p99Ms} ms${health(bareQuery)}, ${spreadOf(bareQuery)}; target 0.6×`
    })
  rows.push({
    bench: 'api',
    subject: `${label}: p99 latency`,
    db,
    value: kronus.p99Ms,
    unit: 'ms',
    limit: 10,
    limitLabel: '10 ms target',
    ratio: kronus.p99Ms / 10,
    lowerIsBetter: true,
    detail: `p50 ${kronus.p50Ms} ms (bare hapi p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms)${health(bare)}`
  })
  return rows
}
