import Jwt from '@hapi/jwt'
import type { Server } from '@hapi/hapi'
import type { Services } from '../services/index.js'
import type { Clock } from '../clock.js'
import { TOKEN_ISSUER } from '../services/auth.js'
import { ROLE_ID } from '../domain/constants.js'

/**
 * Bearer tokens: RS256 only, so `alg: none` and HS256 tokens (even ones keyed with our
 * public key) are refused. Expiry is checked against Kronus's clock, and the user must
 * still exist: a deleted user's token stops working at once.
 */
export async function registerAuth(server: Server, services: Services, clock: Clock): Promise<void> {
  await server.register(Jwt)
  server.auth.strategy('jwt', 'jwt', {
    keys: { key: services.auth.publicKey.export({ type: 'spki', format: 'pem' }).toString(), algorithms: ['RS256'] },
    verify: { aud: false, iss: TOKEN_ISSUER, sub: false, nbf: false, exp: false, maxAgeSec: 0 },
    validate: async (artifacts: any) => {
      const payload = artifacts.decoded.payload as { sub?: string; exp?: number }
      if (typeof payload.exp !== 'number' || payload.exp * 1000 <= clock.now()) return { isValid: false }
      const userId = Number(payload.sub)
      if (!Number.isSafeInteger(userId)) return { isValid: false }
      const user = await services.users.find(userId)
      if (!user) return { isValid: false }
      const isAdmin = user.role_id === ROLE_ID.admin
      return { isValid: true, credentials: { userId, isAdmin, scope: isAdmin ? ['admin', 'user'] : ['user'] } }
    }
  })
  server.auth.default('jwt')
}
