import Joi from 'joi'
import { CHECKIN_WINDOW_MAX_MINUTES, type ProbeSettingsPatch } from '../../../services/probe-settings.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { cronExpression, probeSettingsSchema, timeZone, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'PUT',
  path: '/v1/users/{uid}/probe_settings',
  options: {
    tags: ['api', 'probes'],
    description: 'Set your probe schedule; turning probes on needs an emergency contact (403 otherwise)',
    plugins: errorDocs([400, 401, 403, 413], {
      403: 'Not your settings, or turning probes on without an emergency contact'
    }),
    validate: {
      params: uidParams,
      payload: Joi.object({
        active: Joi.boolean().strict(),
        cron_expression: cronExpression,
        max_retries: Joi.number().integer().min(0).max(6),
        wait_time_in_minutes: Joi.number().integer().min(5).max(120),
        time_zone: timeZone.allow(null),
        checkin_window_minutes: Joi.number()
          .integer()
          .min(0)
          .max(CHECKIN_WINDOW_MAX_MINUTES)
          .description(
            'A press of your check-in link this many minutes or less before a scheduled check-in answers it (no text is sent); 0 = off'
          )
      })
        .options({ stripUnknown: true })
        .required()
    },
    response: { schema: envelopeSchema(probeSettingsSchema, 'ProbeSettingsResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const { after } = await request.server.app.services.probeSettings.update(
        uid,
        request.payload as ProbeSettingsPatch
      )
      return ok(after)
    }
  }
})
