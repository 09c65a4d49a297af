import Joi from 'joi'
import type { ContactPatch } from '../../../services/contacts.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { contactParams, contactSchema, email, name, phoneNumber } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'PUT',
  path: '/v1/users/{uid}/contacts/{id}',
  options: {
    tags: ['api', 'contacts'],
    description:
      'Update one of your contacts; unknown fields are ignored, at least one known field is required. Marking an emergency contact beyond limits.contactsPerUser (10 by default) is a 400. ' +
      'A contact newly marked as an emergency contact, or an emergency contact given a new phone_number, is texted an invitation and is pending until they reply YES and its code. ' +
      'phone_number may not be your own number, nor a premium-rate or non-mobile number (400 naming why)',
    plugins: errorDocs([400, 401, 403, 404, 409, 413, 429], {
      403: 'Not your contact, or un-marking the last emergency contact while probes are on',
      404: 'No such contact of yours',
      409: 'The phone_number is already one of your contacts, or un-marking the last emergency contact while a check-in waits or an alarm is open',
      429: 'The invitation text cannot be sent: your texts for the last 24 hours (limits.textsPerUserPerDay) are used up'
    }),
    validate: {
      params: contactParams,
      payload: Joi.object({
        first_name: name,
        last_name: name,
        phone_number: phoneNumber,
        email: email.allow(''),
        is_emergency_contact: Joi.boolean()
      })
        .options({ stripUnknown: true })
        .required()
    },
    response: { schema: envelopeSchema(contactSchema, 'ContactResponse') },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      return ok(await request.server.app.services.contacts.update(uid, id, request.payload as ContactPatch))
    }
  }
})
