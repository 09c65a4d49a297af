import Boom from '@hapi/boom'
import Joi from 'joi'
import type { HealthReport } from '../../../services/health.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema } from '../../envelope.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/health',
  options: {
    auth: false,
    tags: ['api', 'health'],
    description:
      "Service health: 200 while the database answers, 503 otherwise. While Kronus is degraded (it cannot text, texts keep failing, the job queue is behind, a plugin is in trouble) it is still 200, with status 'degraded' and the reasons: a load balancer keeps the instance, monitoring reads the body",
    plugins: errorDocs([503]),
    response: {
      schema: envelopeSchema(
        Joi.object({
          status: Joi.string().valid('ok', 'degraded'),
          database: Joi.string(),
          reasons: Joi.array().items(Joi.string()).description("What is wrong, present only when status is 'degraded'")
        }).label('Health'),
        'HealthResponse'
      )
    },
    handler: async (request) => {
      const { health } = request.server.app.services
      let report: HealthReport
      try {
        await health.checkDatabase()
        report = await health.report()
      } catch {
        throw Boom.serverUnavailable('database unavailable')
      }
      if (report.status === 'ok') return { success: true, data: { status: 'ok', database: 'ok' } }
      return { success: true, data: { status: 'degraded', database: 'ok', reasons: report.reasons } }
    }
  }
})
