import { createHash, timingSafeEqual } from 'node:crypto'
import Boom from '@hapi/boom'
import type { Server } from '@hapi/hapi'
import type { KronusConfig } from '../config/types.js'
import { addressList } from '../util/address-list.js'
import { clientAddressOf } from './access.js'

/** The route auth of GET /metrics (src/http/routes/metrics/get.ts). */
export const METRICS_AUTH = 'metrics'

const isLoopback = addressList(['127.0.0.0/8', '::1'])

/** Fixed-length digests, so comparing them tells nothing of the token's length or its first wrong character. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** The same bare 401 for a missing and a wrong token: a prober learns nothing from it. */
function denied(): Boom.Boom {
  const error = Boom.unauthorized('Unauthorized')
  error.output.headers['WWW-Authenticate'] = 'Bearer'
  return error
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  return match ? match[1]! : null
}

/**
 * Who may scrape GET /metrics, from `metrics` in the configuration:
 * - neither `token` nor `allowFrom`: nobody (404: the endpoint is off), except in dev
 *   mode, where this machine (loopback) may;
 * - `allowFrom`: only those addresses; any other gets a 404, as if nothing were there;
 * - `token`: only a request with `Authorization: Bearer <token>`; without it or with a
 *   wrong one, a bare 401;
 * - both: both (the address says where a scrape may come from, the token who it is).
 * The client's address is the one `kronus.listener.trustProxy` lets X-Forwarded-For name.
 */
export function registerMetricsAccess(server: Server, config: Pick<KronusConfig, 'dev' | 'metrics'>): void {
  const { token, allowFrom } = config.metrics
  const isAllowed = addressList(allowFrom)
  const expected = token === undefined ? null : digest(token)
  server.auth.scheme('kronus-metrics', () => ({
    authenticate: async (request, h) => {
      const address = clientAddressOf(request)
      if (expected === null && allowFrom.length === 0) {
        if (config.dev && isLoopback(address)) return h.authenticated({ credentials: { scraper: address } })
        throw Boom.notFound()
      }
      if (allowFrom.length > 0 && !isAllowed(address)) throw Boom.notFound()
      if (expected !== null) {
        const given = bearerToken(request.headers.authorization as string | undefined)
        if (given === null || !timingSafeEqual(digest(given), expected)) {
          throw denied()
        }
      }
      return h.authenticated({ credentials: { scraper: address } })
    }
  }))
  server.auth.strategy(METRICS_AUTH, 'kronus-metrics')
}
