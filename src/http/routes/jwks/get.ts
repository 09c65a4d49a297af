import Joi from 'joi'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/jwks',
  options: {
    auth: false,
    tags: ['api', 'auth'],
    description: 'Public key set (RFC 7517) for verifying Kronus access tokens',
    notes: 'Returned as a bare JWK set, not in the envelope, so standard JWT libraries can read it.',
    response: { schema: Joi.object({ keys: Joi.array().items(Joi.object().unknown(true)) }).label('JWKS') },
    handler: (request) => request.server.app.services.auth.jwks()
  }
})
