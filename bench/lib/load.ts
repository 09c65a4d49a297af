import autocannon from 'autocannon'
import type { ApiTarget, LoadResult } from '../api.js'

export interface LoadOptions {
  connections: number
  seconds: number
  warmUpSeconds: number
}

/**
 * Loads a target with autocannon from this (the runner's) process, while the target
 * serves from its own: on two cores, one each. A short unmeasured run first lets the
 * JIT and the connection pool warm up.
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
  const result = await autocannon({
    url: target.url,
    headers: target.headers,
    connections: options.connections,
    duration: options.seconds
  })
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx,
    bodyBytes: Buffer.byteLength(body)
  }
}

/** Kronus's answer, so the bare route can send the very same bytes. */
export async function fetchBody(target: ApiTarget): Promise<string> {
  const res = await fetch(target.url, { headers: target.headers })
  return res.text()
}
