import type { Server } from '@hapi/hapi'
import Jwt from '@hapi/jwt'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../services/auth.js'
import type { Services } from '../services/index.js'

/**
 * Bearer tokens: RS256 only, so `alg: none` and HS256 tokens (even ones keyed with our
 * public key) are refused, and only those issued for this API (`aud`). Expiry is checked
 * against Kronus's clock; the user must still exist with the token version the token
 * carries, and the token must not have been logged out (AuthService.authenticate).
 */
export async function registerAuth(server: Server, services: Services): Promise<void> {
  await server.register(Jwt)
  server.auth.strategy('jwt', 'jwt', {
    keys: { key: services.auth.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: ['RS256'] },
    verify: { aud: TOKEN_AUDIENCE, iss: TOKEN_ISSUER, sub: false, nbf: false, exp: false, maxAgeSec: 0 },
    validate: async (artifacts: any) => {
      const holder = await services.auth.authenticate(artifacts.decoded.payload, services.users)
      if (!holder) return { isValid: false }
      return { isValid: true, credentials: { ...holder, scope: holder.isAdmin ? ['admin', 'user'] : ['user'] } }
    }
  })
  server.auth.default('jwt')
}
