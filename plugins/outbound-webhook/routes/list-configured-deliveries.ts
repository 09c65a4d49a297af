import { ADMIN_AUTH, paged, pageQuery } from 'kronus'
import { endpointParams, type RouteFactory } from './params.js'

export const listConfiguredDeliveries: RouteFactory = ({ endpoints, log }) => ({
  method: 'GET',
  path: '/endpoints/{id}/deliveries',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'webhooks'],
    description: 'Admin: every delivery attempt to a configured endpoint, newest first, 100 a page',
    validate: { params: endpointParams, query: pageQuery },
    handler: async (request) => {
      const { id } = request.params as { id: number }
      await endpoints.findConfigured(id)
      return paged(await log.page(id, (request.query as { page: number }).page))
    }
  }
})
