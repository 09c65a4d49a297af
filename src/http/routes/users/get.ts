import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { uidParams, userSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}',
  options: {
    tags: ['api', 'users'],
    description: 'Get a user (yourself; an admin may get anyone)',
    plugins: errorDocs([400, 401, 403, 404], {
      403: "Another user's record, and the caller is not an admin",
      404: 'No such user'
    }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(userSchema, 'UserResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelfOrAdmin(request, uid)
      return ok(await request.server.app.services.users.get(uid))
    }
  }
})
