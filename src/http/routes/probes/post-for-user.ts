import Joi from 'joi'
import { toRfc3339 } from '../../../util/time.js'
import { assertSelf } from '../../access.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { probeSchema, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/v1/users/{uid}/probes',
  options: {
    tags: ['api', 'probes'],
    description:
      'Ask for a probe now (in_minutes 0) or later; needs an emergency contact (403), one pending probe at a time (409), ' +
      'at most probes.onDemandDailyLimit in 24 hours and texts left of limits.textsPerUserPerDay (429). A later one ' +
      'for a time within the first wait of one already asked for is added to it (merged: true, not counted); ' +
      'one that comes due while a check-in waits is merged into it and not counted (check_in_waiting says one waits now)',
    validate: {
      params: uidParams,
      payload: Joi.object({
        in_minutes: Joi.number().integer().min(0).max(1440).default(5).description('Minutes from now; 0 asks at once'),
        retries: Joi.number()
          .integer()
          .min(0)
          .max(6)
          .default(3)
          .description('Follow-ups before the probe is unavailable'),
        wait_minutes: Joi.number().integer().min(5).max(120).default(10).description('Minutes between follow-ups')
      })
        .options({ stripUnknown: true })
        // No body at all means "all defaults", as the `probe` SMS command without flags does.
        .empty(null)
        .default()
    },
    response: {
      schema: envelopeSchema(
        Joi.object({
          starts_at: Joi.string().isoDate(),
          probe: probeSchema.allow(null),
          merged: Joi.boolean().description(
            'Added to a check-in already asked for that starts at starts_at; not counted'
          ),
          check_in_waiting: Joi.boolean().description(
            'A check-in waits for an answer now: if it still waits at starts_at, this one is merged into it and not counted'
          )
        }).label('OnDemandProbe'),
        'OnDemandProbeResponse'
      )
    },
    handler: async (request, h) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const body = request.payload as { in_minutes: number; retries: number; wait_minutes: number }
      const result = await request.server.app.services.probes.requestOnDemand(uid, {
        inMinutes: body.in_minutes,
        retries: body.retries,
        waitMinutes: body.wait_minutes
      })
      // 201: the probe exists and the user has been asked; 202: it will start at starts_at.
      return h
        .response(
          ok({
            starts_at: toRfc3339(result.startsAt),
            probe: result.probe,
            merged: result.merged,
            check_in_waiting: result.checkInWaiting
          })
        )
        .code(result.probe ? 201 : 202)
    }
  }
})
