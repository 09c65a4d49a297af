import { assertSelf, paged, pageQuery } from 'kronus'
import { type RouteFactory, USER_TAGS, webhookParams } from './params.js'

export const listDeliveries: RouteFactory = ({ endpoints, log }) => ({
  method: 'GET',
  path: '/v1/users/{uid}/webhooks/{id}/deliveries',
  options: {
    tags: USER_TAGS,
    description: 'Every delivery attempt of a webhook, newest first, 100 a page',
    validate: { params: webhookParams, query: pageQuery },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      await endpoints.findForUser(uid, id)
      const { page } = request.query as { page: number }
      return paged(await log.page(id, page))
    }
  }
})
