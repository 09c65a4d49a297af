import Joi from 'joi'
import { PREVIEW_FIRES } from '../../../services/schedule-preview.js'
import { actorOf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { cronExpression, timeZone } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/schedule/preview',
  options: {
    tags: ['api', 'probes'],
    description:
      'What a check-in schedule would do, before you set it: the cron in plain words and its next ' +
      `${PREVIEW_FIRES} fires in the zone (RFC 3339 with the zone's offset at each, daylight saving time included). ` +
      'A cron PUT probe_settings would refuse (unreadable, or firing more often than limits.minCheckInIntervalMinutes) ' +
      'is refused here with the same message. time_zone defaults to your own.',
    plugins: errorDocs([400, 401, 404], {
      400: 'cron_expression is not a 5-field cron or fires more often than the limit, or time_zone is not an IANA zone',
      404: 'The signed-in user no longer exists'
    }),
    validate: {
      query: Joi.object({
        cron_expression: cronExpression.required(),
        time_zone: timeZone.description("An IANA zone; your probe settings' zone when omitted")
      })
    },
    response: {
      schema: envelopeSchema(
        Joi.object({
          cron_expression: Joi.string(),
          time_zone: Joi.string(),
          description: Joi.string().description('The cron in plain English, e.g. "At 09:00, every day"'),
          next: Joi.array()
            .items(Joi.string())
            .description(`The next ${PREVIEW_FIRES} fires after now, e.g. "2026-12-05T09:00:00+01:00"`)
        }).label('SchedulePreview'),
        'SchedulePreviewResponse'
      )
    },
    handler: async (request) => {
      const actor = actorOf(request)
      const { cron_expression, time_zone } = request.query as { cron_expression: string; time_zone?: string }
      return ok(await request.server.app.services.schedulePreview.preview(actor.userId, cron_expression, time_zone))
    }
  }
})
