import Joi from 'joi'
import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'DELETE',
  path: '/v1/users/{uid}',
  options: {
    tags: ['api', 'users'],
    description:
      'Delete a user with their contacts, schedule and pending probes (yourself; an admin may delete anyone)',
    plugins: errorDocs([400, 401, 403, 404, 409], {
      403: 'Another user, and the caller is not an admin',
      404: 'No such user',
      409: 'The only admin cannot be deleted while other users exist'
    }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(Joi.any().valid(null), 'DeleteResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelfOrAdmin(request, uid)
      await request.server.app.services.users.delete(uid)
      return ok(null)
    }
  }
})
