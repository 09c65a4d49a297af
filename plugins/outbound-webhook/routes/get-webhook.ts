import { assertSelf, ok } from 'kronus'
import { endpointView } from '../rows.js'
import { type RouteFactory, USER_TAGS, webhookParams } from './params.js'

export const getWebhook: RouteFactory = ({ endpoints }) => ({
  method: 'GET',
  path: '/v1/users/{uid}/webhooks/{id}',
  options: {
    tags: USER_TAGS,
    description: 'One of your webhooks (without its secret)',
    validate: { params: webhookParams },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      return ok(endpointView(await endpoints.findForUser(uid, id)))
    }
  }
})
