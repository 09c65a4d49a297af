import { ADMIN_AUTH, paged, pageQuery } from 'kronus'
import type { RouteFactory } from './params.js'

export const listConfigured: RouteFactory = ({ endpoints }) => ({
  method: 'GET',
  path: '/endpoints',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'webhooks'],
    description: 'Admin: the webhook endpoints of kronus.config.ts and whether Kronus disabled them',
    validate: { query: pageQuery },
    handler: async (request) => paged(await endpoints.listConfigured((request.query as { page: number }).page))
  }
})
