import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { escalationSchema, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}/escalation',
  options: {
    tags: ['api', 'alarms'],
    description:
      "How an alarm escalates to the user's emergency contacts; the defaults (all, 10, 3, false) until changed (yourself; an admin may read anyone's)",
    plugins: errorDocs([400, 401, 403, 404], {
      403: "Another user's settings, and the caller is not an admin",
      404: 'No such user'
    }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(escalationSchema, 'EscalationResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelfOrAdmin(request, uid)
      return ok(await request.server.app.services.escalation.get(uid))
    }
  }
})
