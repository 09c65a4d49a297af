import Joi from 'joi'
import type { NewContact } from '../../../services/contacts.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { contactSchema, email, name, phoneNumber, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/users/{uid}/contacts',
  options: {
    tags: ['api', 'contacts'],
    description:
      'Add a contact; is_emergency_contact marks one to alert (several may be marked, up to limits.contactsPerUser, 10 by default: 400 beyond). ' +
      'An emergency contact is texted an invitation and is pending (consent_state) until they reply YES and its code; alarms reach them meanwhile, but probes cannot be turned on with only pending contacts. ' +
      'phone_number may not be your own number, nor a premium-rate or non-mobile number (400 naming why)',
    plugins: errorDocs([400, 401, 403, 409, 413, 429], {
      403: 'Only you may add your contacts',
      409: 'The phone_number is already one of your contacts',
      429: 'The invitation text cannot be sent: your texts for the last 24 hours (limits.textsPerUserPerDay) are used up'
    }),
    validate: {
      params: uidParams,
      payload: Joi.object({
        first_name: name.required(),
        last_name: name.required(),
        phone_number: phoneNumber.required(),
        email: email.allow(''),
        is_emergency_contact: Joi.boolean().default(false)
      }).options({ stripUnknown: true })
    },
    response: { status: { 201: envelopeSchema(contactSchema, 'ContactResponse') } },
    handler: async (request, h) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const contact = await request.server.app.services.contacts.create(uid, request.payload as NewContact)
      return h.response(ok(contact)).code(201)
    }
  }
})
