import Joi from 'joi'
import { defineRoute } from '../../types.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { email, text } from '../../schemas.js'

export default defineRoute({
  method: 'POST',
  path: '/login',
  options: {
    auth: false,
    tags: ['api', 'auth'],
    description: 'Exchange email and password for an RS256 access token valid for 24 hours',
    plugins: errorDocs([400, 401, 413, 429]),
    validate: {
      payload: Joi.object({ email: email.required(), password: text.min(1).max(1024).required() }).options({ stripUnknown: true })
    },
    response: { schema: envelopeSchema(Joi.object({ token: Joi.string() }).label('Token'), 'LoginResponse') },
    handler: async (request) => {
      const { email, password } = request.payload as { email: string; password: string }
      const { auth, users } = request.server.app.services
      const token = await auth.login(email, password, request.info.remoteAddress, users)
      return ok({ token })
    }
  }
})
