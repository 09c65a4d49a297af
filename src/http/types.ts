import type { ServerRoute } from '@hapi/hapi'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import type { Services } from '../services/index.js'

declare module '@hapi/hapi' {
  interface ServerApplicationState {
    services: Services
    config: KronusConfig
    clock: Clock
    /** Whether an address is one of `kronus.listener.trustProxy`. */
    isTrustedProxy: (address: string) => boolean
  }
}

/** A route file's default export; the type only checks the shape. */
export function defineRoute(route: ServerRoute): ServerRoute {
  return route
}
