import autocannon from 'autocannon'
import type { ApiTarget, LoadResult, LoadRun } from '../api.js'

export interface LoadOptions {
  connections: number
  seconds: number
  warmUpSeconds: number
  /** Measured runs, one after the other; the result is the median run, with the spread of all. */
  runs: number
}

/**
 * Loads a target with autocannon from this (the runner's) process, while the target
 * serves from its own: on two cores, one each. A short unmeasured run first lets the
 * JIT and the connection pool warm up. Then `runs` measured runs: one run's figure can
 * be off by a stray process or a GC at the wrong moment, so the result is the median
 * run by throughput, and every run's throughput and p99 are kept to show the spread.
 */
export async function loadTarget(target: ApiTarget, options: LoadOptions): Promise<LoadResult> {
  const probe = await fetch(target.url, { headers: target.headers })
  const body = await probe.text()
  if (probe.status !== 200) throw new Error(`GET ${target.url} answered ${probe.status}: ${body.slice(0, 300)}`)
  if (options.warmUpSeconds > 0)
    await autocannon({
      url: target.url,
      headers: target.headers,
      connections: options.connections,
      duration: options.warmUpSeconds
    })
  const runs: LoadRun[] = []
  for (let i = 0; i < options.runs; i++) {
    const result = await autocannon({
      url: target.url,
      headers: target.headers,
      connections: options.connections,
      duration: options.seconds
    })
    runs.push({
      requestsPerSecond: result.requests.average,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      requests: result.requests.total,
      errors: result.errors,
      non2xx: result.non2xx
    })
  }
  const median = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((runs.length - 1) / 2)]!
  return {
    requestsPerSecond: median.requestsPerSecond,
    p50Ms: median.p50Ms,
    p99Ms: median.p99Ms,
    requests: runs.reduce((n, r) => n + r.requests, 0),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    bodyBytes: Buffer.byteLength(body),
    runs
  }
}

/** Kronus's answer, so the bare route can send the very same bytes. */
export async function fetchBody(target: ApiTarget): Promise<string> {
  const res = await fetch(target.url, { headers: target.headers })
  return res.text()
}
