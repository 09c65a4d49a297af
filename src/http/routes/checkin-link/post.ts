import Joi from 'joi'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

const createdSchema = Joi.object({
  url: Joi.string().description('<kronus.publicUrl>/c/<token>: shown this once, Kronus keeps only its hash'),
  path: Joi.string().description('The same without the server address, /c/<token>'),
  rotated: Joi.boolean().description('True when an older link of yours stopped working')
}).label('CheckinLink')

export default defineRoute({
  method: 'POST',
  path: '/v1/users/{uid}/checkin_link',
  options: {
    tags: ['api', 'check-in link'],
    description:
      'Create your check-in link, or replace it (the old one stops working): a secret URL whose press answers your waiting check-in as OK, or counts as proof of life (see checkin_window_minutes in probe_settings). The URL is shown only in this answer.',
    plugins: errorDocs([400, 401, 403, 404], { 403: 'Not your link', 404: 'No such user' }),
    validate: { params: uidParams },
    response: { schema: envelopeSchema(createdSchema, 'CheckinLinkResponse') },
    handler: async (request, h) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      return h.response(ok(await request.server.app.services.checkinLink.create(uid))).code(201)
    }
  }
})
