import { assertSelf, paged, pageQuery, uidParams } from 'kronus'
import { type RouteFactory, USER_TAGS } from './params.js'

export const listWebhooks: RouteFactory = ({ endpoints }) => ({
  method: 'GET',
  path: '/v1/users/{uid}/webhooks',
  options: {
    tags: USER_TAGS,
    description: 'List your webhooks, 100 a page (secrets are never shown)',
    validate: { params: uidParams, query: pageQuery },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const { page } = request.query as { page: number }
      return paged(await endpoints.listForUser(uid, page))
    }
  }
})
