import Joi from 'joi'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { contactParams, contactSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/users/{uid}/contacts/{id}/invite',
  options: {
    tags: ['api', 'contacts'],
    description:
      'Text an emergency contact who has not agreed their invitation again, with a new code (once per 24 hours); they stay pending until they reply YES and the code',
    plugins: errorDocs([400, 401, 403, 404, 409, 429], {
      403: 'Not your contact',
      404: 'No such contact of yours',
      409: 'Not an emergency contact, already agreed, or they texted STOP (they must text START first)',
      429: 'They were invited less than 24 hours ago'
    }),
    validate: { params: contactParams, payload: Joi.any().strip() },
    response: { schema: envelopeSchema(contactSchema, 'ContactResponse') },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      return ok(await request.server.app.services.contacts.reinvite(uid, id))
    }
  }
})
