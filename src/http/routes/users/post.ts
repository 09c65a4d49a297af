import Joi from 'joi'
import type { NewUser } from '../../../services/users.js'
import { optionalActorOf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { email, name, password, phoneNumber, userSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/users',
  options: {
    auth: { strategy: 'jwt', mode: 'try' },
    tags: ['api', 'users'],
    description: 'Create a user (admin only; the very first user needs no token and becomes the admin)',
    plugins: errorDocs([400, 401, 403, 409, 413], {
      401: 'No valid token, and this is not the first user',
      403: 'Only an admin may create users',
      409: 'The email or phone_number already belongs to another user'
    }),
    validate: {
      payload: Joi.object({
        first_name: name.required(),
        last_name: name.required(),
        email: email.required(),
        phone_number: phoneNumber.required(),
        password: password.required()
      }).options({ stripUnknown: true })
    },
    response: { status: { 201: envelopeSchema(userSchema, 'UserResponse') } },
    handler: async (request, h) => {
      const user = await request.server.app.services.users.create(request.payload as NewUser, optionalActorOf(request))
      return h.response(ok(user)).code(201)
    }
  }
})
