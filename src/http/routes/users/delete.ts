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
      'Delete a user with their contacts, schedule and pending probes (yourself; an admin may delete anyone). ' +
      'A user with an alarm not yet resolved is kept (409) unless force=true; with force their alarms stay and go on.',
    plugins: errorDocs([400, 401, 403, 404, 409], {
      403: 'Another user, and the caller is not an admin',
      404: 'No such user',
      409: 'The user has an alarm that is not resolved (the message names it; force=true deletes anyway), or is the only admin while other users exist'
    }),
    validate: {
      params: uidParams,
      query: Joi.object({
        force: Joi.boolean()
          .default(false)
          .description('Delete even with an alarm not yet resolved; the alarm is kept and its escalation goes on')
      })
    },
    response: { schema: envelopeSchema(Joi.any().valid(null), 'DeleteResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelfOrAdmin(request, uid)
      const { force } = request.query as { force: boolean }
      await request.server.app.services.users.delete(uid, undefined, { force })
      return ok(null)
    }
  }
})
