import Joi from 'joi'
import type { UserPatch } from '../../../services/users.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { currentPassword, email, name, password, phoneNumber, uidParams, userSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'PUT',
  path: '/v1/users/{uid}',
  options: {
    tags: ['api', 'users'],
    description:
      'Update your own user record; unknown fields are ignored, at least one known field is required. ' +
      'Changing password or email needs current_password and ends every token issued before: log in again with the new credentials',
    plugins: errorDocs([400, 401, 403, 409, 413, 429], {
      400: 'A field is invalid, or current_password is missing for a password or email change',
      403: 'Only your own record may be changed, or current_password is incorrect',
      409: 'The email or phone_number already belongs to another user',
      429: 'Too many password or email changes in the last hour'
    }),
    validate: {
      params: uidParams,
      payload: Joi.object({
        first_name: name,
        last_name: name,
        email,
        phone_number: phoneNumber,
        password,
        current_password: currentPassword
      })
        .options({ stripUnknown: true })
        .required()
    },
    response: { schema: envelopeSchema(userSchema, 'UserResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      return ok(await request.server.app.services.users.update(uid, request.payload as UserPatch))
    }
  }
})
