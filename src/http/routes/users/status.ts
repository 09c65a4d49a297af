import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { uidParams, userStatusSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}/status',
  options: {
    tags: ['api', 'users'],
    description:
      'Where a user stands (yourself, or an admin): one state word, the last and the waiting check-in, the alarm not ' +
      'resolved, the next check-in, a running pause. A duress alarm is shown to admins only: to the user their state ' +
      'reads as if there were none, as their alarm list hides it.',
    plugins: errorDocs([400, 401, 403, 404], { 403: 'Another user, and the caller is not an admin' }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(userStatusSchema, 'UserStatusResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      const actor = assertSelfOrAdmin(request, uid)
      return ok(await request.server.app.services.userStatus.forUser(uid, actor.isAdmin))
    }
  }
})
