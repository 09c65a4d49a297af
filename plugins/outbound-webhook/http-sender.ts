import http from 'node:http'
import https from 'node:https'
import { performance } from 'node:perf_hooks'
import { StringDecoder } from 'node:string_decoder'
import { assertLiteralAllowed, guardedLookup, type Resolver } from './ssrf-guard.js'

/** Bytes of a response body kept in the delivery log. */
export const MAX_LOGGED_BODY_BYTES = 1024

export interface HttpAttempt {
  /** Null when no response arrived (refused, unreachable, timed out before the headers). */
  statusCode: number | null
  latencyMs: number
  /** At most MAX_LOGGED_BODY_BYTES of the response body, as text. */
  responseBody: string
  /** Why the attempt failed without a response (or while reading it); null otherwise. */
  error: string | null
}

export interface OutgoingRequest {
  url: string
  headers: Record<string, string>
  body: string
}

export interface HttpSenderOptions {
  resolve: Resolver
  allowPrivateNetworks: boolean
  /** The whole exchange, connect to last byte read, must fit in this. */
  timeoutMs: number
}

/**
 * POSTs webhooks. Redirects are never followed (node:http does not follow them, and
 * nothing here does): a 3xx is an answer like any other non-2xx, so a receiver cannot
 * bounce Kronus to an address the guard would refuse.
 */
export class HttpSender {
  readonly #options: HttpSenderOptions
  readonly #httpAgent: http.Agent
  readonly #httpsAgent: https.Agent

  constructor(options: HttpSenderOptions) {
    this.#options = options
    const lookup = guardedLookup(options.resolve, options.allowPrivateNetworks)
    // No keep-alive: a reused socket would skip the lookup, and with it the address check.
    this.#httpAgent = new http.Agent({ keepAlive: false, lookup })
    this.#httpsAgent = new https.Agent({ keepAlive: false, lookup })
  }

  /** Never throws: every outcome, a refusal included, is an attempt to log. */
  async send(request: OutgoingRequest, signal?: AbortSignal): Promise<HttpAttempt> {
    // Latency is a measured duration, not a point in time, so the injected clock (which
    // stands still in tests) cannot provide it.
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    try {
      const url = new URL(request.url)
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        throw new Error(`unsupported URL scheme ${url.protocol}`)
      assertLiteralAllowed(url.hostname, this.#options.allowPrivateNetworks)
      const { statusCode, body, error } = await this.#exchange(url, request, signal)
      return { statusCode, latencyMs: elapsed(), responseBody: body, error }
    } catch (err) {
      return { statusCode: null, latencyMs: elapsed(), responseBody: '', error: describe(err) }
    }
  }

  #exchange(
    url: URL,
    request: OutgoingRequest,
    signal?: AbortSignal
  ): Promise<{ statusCode: number | null; body: string; error: string | null }> {
    const { timeoutMs } = this.#options
    const client = url.protocol === 'https:' ? https : http
    const agent = url.protocol === 'https:' ? this.#httpsAgent : this.#httpAgent
    return new Promise((resolve, reject) => {
      let statusCode: number | null = null
      let body = ''
      let settled = false
      const finish = (error: string | null) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        req.destroy()
        resolve({ statusCode, body, error })
      }
      const onAbort = () => finish('aborted: Kronus is shutting down')
      const timer = setTimeout(() => finish(`timed out after ${timeoutMs} ms`), timeoutMs)
      const req = client.request(url, {
        method: 'POST',
        agent,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) }
      })
      req.on('response', (res) => {
        statusCode = res.statusCode ?? null
        const decoder = new StringDecoder('utf8')
        let kept = 0
        res.on('data', (chunk: Buffer) => {
          const room = MAX_LOGGED_BODY_BYTES - kept
          if (room > 0) {
            body += decoder.write(chunk.subarray(0, room))
            kept += Math.min(room, chunk.length)
          }
          // The rest of a large body is not worth waiting for.
          if (kept >= MAX_LOGGED_BODY_BYTES) finish(null)
        })
        res.on('end', () => finish(null))
        res.on('error', (err) => finish(describe(err)))
      })
      req.on('error', (err) => {
        if (statusCode === null) {
          if (!settled) {
            settled = true
            clearTimeout(timer)
            signal?.removeEventListener('abort', onAbort)
            reject(err)
          }
        } else finish(describe(err))
      })
      if (signal?.aborted) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
      req.end(request.body)
    })
  }

  close(): void {
    this.#httpAgent.destroy()
    this.#httpsAgent.destroy()
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err)
  const code = (err as NodeJS.ErrnoException).code
  const text = code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message
  return text.slice(0, 1000)
}
