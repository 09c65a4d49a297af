import Joi from 'joi'
import { clientAddressOf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { currentPassword, email } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/login',
  options: {
    auth: false,
    tags: ['api', 'auth'],
    description:
      'Exchange email and password for an RS256 access token, valid 1 hour unless auth.accessTokenTtlMinutes ' +
      'says otherwise',
    plugins: errorDocs([400, 401, 413, 429], {
      429:
        'This client (account and address) failed too often and must wait, ' +
        'or its address failed too often over all accounts'
    }),
    validate: {
      payload: Joi.object({ email: email.required(), password: currentPassword.required() }).options({
        stripUnknown: true
      })
    },
    response: { schema: envelopeSchema(Joi.object({ token: Joi.string() }).label('Token'), 'LoginResponse') },
    handler: async (request) => {
      const { email, password } = request.payload as { email: string; password: string }
      const { auth, users } = request.server.app.services
      const token = await auth.login(email, password, clientAddressOf(request), users)
      return ok({ token })
    }
  }
})
