import Joi from 'joi'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'DELETE',
  path: '/v1/users/{uid}/checkin_link',
  options: {
    tags: ['api', 'check-in link'],
    description: 'Revoke your check-in link: it answers 404 from now on, and a proof of life not yet used is dropped',
    plugins: errorDocs([400, 401, 403, 404], { 403: 'Not your link', 404: 'You have no check-in link' }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(Joi.any().valid(null), 'DeleteResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      await request.server.app.services.checkinLink.revoke(uid)
      return ok(null)
    }
  }
})
