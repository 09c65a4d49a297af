import Joi from 'joi'
import { tokenOf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/logout',
  options: {
    tags: ['api', 'auth'],
    description: 'End the token this request carries, on every instance; other tokens of the user stay valid',
    plugins: errorDocs([401]),
    response: { schema: envelopeSchema(Joi.any().valid(null), 'LogoutResponse') },
    handler: async (request) => {
      await request.server.app.services.auth.logout(tokenOf(request))
      return ok(null)
    }
  }
})
