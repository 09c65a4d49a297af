import Boom from '@hapi/boom'
import Joi from 'joi'
import { errorDocs } from '../../docs.js'
import { envelopeSchema } from '../../envelope.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/health',
  options: {
    auth: false,
    tags: ['api', 'health'],
    description: 'Service health: 200 while the database answers, 503 otherwise',
    plugins: errorDocs([503]),
    response: {
      schema: envelopeSchema(
        Joi.object({ status: Joi.string(), database: Joi.string() }).label('Health'),
        'HealthResponse'
      )
    },
    handler: async (request) => {
      try {
        await request.server.app.services.health.checkDatabase()
      } catch {
        throw Boom.serverUnavailable('database unavailable')
      }
      return { success: true, data: { status: 'ok', database: 'ok' } }
    }
  }
})
