import type { Request } from '@hapi/hapi'
import { ForbiddenError } from '../domain/errors.js'
import type { TokenHolder } from '../services/auth.js'
import type { Actor } from '../services/context.js'
import { clientAddress } from '../util/address-list.js'

/** The authenticated caller; set by the jwt strategy in src/http/auth.ts. */
export function actorOf(request: Request): Actor {
  const credentials = request.auth.credentials as unknown as Actor | undefined
  if (!credentials?.userId) throw new ForbiddenError('authentication required')
  return { userId: credentials.userId, isAdmin: credentials.isAdmin }
}

/** The valid token the request came with (routes that require one). */
export function tokenOf(request: Request): TokenHolder {
  const credentials = request.auth.credentials as unknown as TokenHolder | undefined
  if (!credentials?.jti) throw new ForbiddenError('authentication required')
  return credentials
}

/**
 * The client's address: the peer's, or behind proxies listed in `kronus.listener.trustProxy`
 * the one X-Forwarded-For names through those hops (src/util/address-list.ts).
 */
export function clientAddressOf(request: Request): string {
  const forwarded = request.headers['x-forwarded-for'] as string | undefined
  return clientAddress(request.info.remoteAddress, forwarded, request.server.app.isTrustedProxy)
}

/** The caller when a token was given and valid, else null (routes with `auth: { mode: 'try' }`). */
export function optionalActorOf(request: Request): Actor | null {
  return request.auth.isAuthenticated ? actorOf(request) : null
}

/** A user's own record and sub-resources: only they may touch them. */
export function assertSelf(request: Request, uid: number): Actor {
  const actor = actorOf(request)
  if (actor.userId !== uid) throw new ForbiddenError('you can only access your own records')
  return actor
}

/** Records an admin may also read or delete. */
export function assertSelfOrAdmin(request: Request, uid: number): Actor {
  const actor = actorOf(request)
  if (actor.userId !== uid && !actor.isAdmin) throw new ForbiddenError('you can only access your own records')
  return actor
}

/** Route auth for what only an admin may see or change: a valid token with the admin scope. */
export const ADMIN_AUTH = { strategy: 'jwt', access: { scope: 'admin' } } as const

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

/**
 * Dev-mode routes (src/http/routes/dev/, and plugins' dev routes) take no token: they
 * answer only a caller on this machine, talking to the server directly. A request a proxy
 * forwarded (X-Forwarded-For) is refused even from loopback: the proxy may be serving anyone.
 */
export function assertLoopbackCaller(request: Request): void {
  if (!LOOPBACK.has(request.info.remoteAddress) || request.headers['x-forwarded-for'] !== undefined)
    throw new ForbiddenError('dev routes answer only callers on this machine')
}
