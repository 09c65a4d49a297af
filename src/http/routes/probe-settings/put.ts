import Joi from 'joi'
import { CHECKIN_WINDOW_MAX_MINUTES, type ProbeSettingsPatch } from '../../../services/probe-settings.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { cronExpression, probeSettingsSchema, quietHours, rfc3339, timeZone, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'PUT',
  path: '/v1/users/{uid}/probe_settings',
  options: {
    tags: ['api', 'probes'],
    description:
      'Set your probe schedule; turning probes on needs an emergency contact (403 otherwise). ' +
      'cron_expression may not fire more often than limits.minCheckInIntervalMinutes (default 60) anywhere in its cycle. ' +
      'quiet_hours {start, end} ("HH:MM" in your time_zone, may cross midnight, or null): a scheduled check-in in them is ' +
      'sent at their end, and a follow-up wait does not run in them (the part inside is served after). ' +
      'paused_until (RFC 3339, in the future, at most 365 days ahead, or null to resume): no scheduled check-in until then; ' +
      'a waiting check-in is cancelled, you are texted when check-ins resume, and a pause longer than 7 days is ' +
      'texted to your emergency contacts. Alarms are never held by either.',
    plugins: errorDocs([400, 401, 403, 413], {
      400: 'A field is invalid: a cron firing more often than the limit, quiet hours starting and ending at the same time, paused_until in the past or over 365 days ahead',
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
          ),
        quiet_hours: quietHours.allow(null),
        paused_until: rfc3339.allow(null)
      })
        .options({ stripUnknown: true })
        .required()
    },
    response: { schema: envelopeSchema(probeSettingsSchema, 'ProbeSettingsResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const { paused_until, ...rest } = request.payload as Omit<ProbeSettingsPatch, 'paused_until'> & {
        paused_until?: string | null
      }
      const patch: ProbeSettingsPatch = {
        ...rest,
        ...(paused_until === undefined ? {} : { paused_until: paused_until === null ? null : Date.parse(paused_until) })
      }
      const { after } = await request.server.app.services.probeSettings.update(uid, patch)
      return ok(after)
    }
  }
})
