import Joi from 'joi'
import { PROBE_STATUS_NAMES } from '../../../domain/constants.js'
import { ADMIN_AUTH } from '../../access.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

const count = Joi.number().integer().min(0)

export default defineRoute({
  method: 'GET',
  path: '/v1/probes/stats',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'probes'],
    description: 'How many probes have each status (admin only)',
    response: {
      schema: envelopeSchema(
        Joi.object(Object.fromEntries(PROBE_STATUS_NAMES.map((name) => [`${name}_probe_count`, count]))).label(
          'ProbeStats'
        ),
        'ProbeStatsResponse'
      )
    },
    handler: async (request) => ok(await request.server.app.services.probes.stats())
  }
})
