import Joi from 'joi'
import { ADMIN_AUTH, actorOf } from '../../access.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { alarmSchema, id, text } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/alarms/{aid}/resolve',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'alarms'],
    description:
      'Close an alarm that is not resolved (admin only): the contacts who were alerted and the user are texted who ' +
      'closed it and the note; 409 when it is already resolved',
    validate: {
      params: Joi.object({ aid: id.required() }),
      payload: Joi.object({
        note: text
          .trim()
          .min(3)
          .max(300)
          .required()
          .description('Why it is closed, in words the contacts and the user will read')
      })
    },
    response: { schema: envelopeSchema(alarmSchema, 'ResolvedAlarm') },
    handler: async (request) => {
      const { aid } = request.params as { aid: number }
      const { note } = request.payload as { note: string }
      return ok(await request.server.app.services.alarmResolution.resolveByAdmin(aid, actorOf(request), note))
    }
  }
})
