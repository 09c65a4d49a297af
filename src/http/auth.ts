import Boom from '@hapi/boom'
import type { Server } from '@hapi/hapi'
import Jwt from '@hapi/jwt'
import { TOKEN_AUDIENCE, TOKEN_ISSUER, type TokenClaims } from '../services/auth.js'
import type { Services } from '../services/index.js'

/** Tokens whose signature was checked, remembered at most this many at a time (least recently used go first). */
const VERIFIED_TOKENS_KEPT = 5000

/**
 * The claims of tokens whose RS256 signature, issuer and audience were checked, by token.
 * The signature check is the costliest step of a request (about a third of a millisecond
 * of CPU): a token that was good once is good for its whole life as far as its signature
 * goes, so it is checked once. Only the signature is remembered; expiry, the user, the
 * token version and revocation are checked against the database on every request
 * (AuthService.authenticate), so a logout or password change on any instance holds at once.
 */
export class VerifiedTokens {
  readonly #claims = new Map<string, Partial<TokenClaims>>()

  constructor(private readonly capacity = VERIFIED_TOKENS_KEPT) {}

  get size(): number {
    return this.#claims.size
  }

  get(token: string): Partial<TokenClaims> | undefined {
    const claims = this.#claims.get(token)
    if (claims === undefined) return undefined
    this.#claims.delete(token)
    this.#claims.set(token, claims)
    return claims
  }

  set(token: string, claims: Partial<TokenClaims>): void {
    this.#claims.delete(token)
    this.#claims.set(token, claims)
    if (this.#claims.size > this.capacity) this.#claims.delete(this.#claims.keys().next().value!)
  }
}

/**
 * Bearer tokens: RS256 only, so `alg: none` and HS256 tokens (even ones keyed with our
 * public key) are refused, and only those issued for this API (`aud`). Expiry is checked
 * against Kronus's clock; the user must still exist with the token version the token
 * carries, and the token must not have been logged out (AuthService.authenticate).
 * @hapi/jwt's own strategy would check the signature on every request: this scheme
 * does the same checks with its token functions, remembering signatures (VerifiedTokens).
 */
export async function registerAuth(server: Server, services: Services): Promise<void> {
  const key = {
    key: services.auth.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    algorithm: 'RS256' as const
  }
  const verifyOptions = { aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, sub: false, nbf: false, exp: false, maxAgeSec: 0 }
  const verified = new VerifiedTokens()
  const unauthorized = (message: string | null = null) => Boom.unauthorized(message, 'Bearer')

  const claimsOf = (token: string): Partial<TokenClaims> => {
    const known = verified.get(token)
    if (known) return known
    const artifacts = Jwt.token.decode(token)
    Jwt.token.verify(artifacts, key, verifyOptions as any)
    const claims = artifacts.decoded.payload as Partial<TokenClaims>
    verified.set(token, claims)
    return claims
  }

  server.auth.scheme('kronus-jwt', () => ({
    authenticate: async (request, h) => {
      const header = String(request.headers.authorization ?? '')
      if (!header) return h.unauthenticated(unauthorized())
      const [scheme, token] = header.trim().split(/\s+/)
      if (scheme?.toLowerCase() !== 'bearer' || !token) return h.unauthenticated(unauthorized())
      let claims: Partial<TokenClaims>
      try {
        claims = claimsOf(token)
      } catch (err) {
        return h.unauthenticated(unauthorized((err as Error).message))
      }
      const holder = await services.auth.authenticate(claims)
      if (!holder) return h.unauthenticated(unauthorized('Invalid credentials'))
      return h.authenticated({
        credentials: { ...holder, scope: holder.isAdmin ? ['admin', 'user'] : ['user'] } as any
      })
    }
  }))
  server.auth.strategy('jwt', 'kronus-jwt')
  server.auth.default('jwt')
}
