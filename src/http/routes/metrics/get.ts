import Boom from '@hapi/boom'
import { METRICS_AUTH } from '../../metrics-access.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/metrics',
  options: {
    auth: METRICS_AUTH,
    // Not 'api': for Prometheus, not for API clients, so not in /documentation (README: Metrics).
    tags: ['metrics'],
    description: 'Metrics in Prometheus text format, for a scraper (see README: Metrics)',
    handler: async (request, h) => {
      const { metrics } = request.server.app.services
      let text: string
      try {
        text = await metrics.render()
      } catch (err) {
        request.logger.error({ err }, 'metrics: the database did not answer')
        throw Boom.serverUnavailable('database unavailable')
      }
      return h.response(text).type(metrics.contentType)
    }
  }
})
