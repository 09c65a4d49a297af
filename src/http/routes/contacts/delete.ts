import Joi from 'joi'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { contactParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'DELETE',
  path: '/v1/users/{uid}/contacts/{id}',
  options: {
    tags: ['api', 'contacts'],
    description:
      'Delete one of your contacts (not the last emergency contact while a check-in waits, an alarm is open or probes are on)',
    plugins: errorDocs([400, 401, 403, 404, 409], {
      403: 'Not your contact, or the last emergency contact while probes are on',
      404: 'No such contact of yours',
      409: 'The last emergency contact while a check-in waits or an alarm is open; the message says which'
    }),
    validate: { params: contactParams },
    response: { schema: envelopeSchema(Joi.any().valid(null), 'DeleteResponse') },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      await request.server.app.services.contacts.delete(uid, id)
      return ok(null)
    }
  }
})
