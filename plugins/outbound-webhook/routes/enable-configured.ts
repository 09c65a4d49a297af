import { ADMIN_AUTH, ok } from 'kronus'
import { endpointParams, type RouteFactory } from './params.js'

export const enableConfigured: RouteFactory = ({ endpoints }) => ({
  method: 'POST',
  path: '/endpoints/{id}/enable',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'webhooks'],
    description: 'Admin: turn back on a configured endpoint that Kronus disabled',
    validate: { params: endpointParams },
    handler: async (request) => ok(await endpoints.enableConfigured((request.params as { id: number }).id))
  }
})
