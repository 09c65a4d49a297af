import { assertSelf, ok } from 'kronus'
import { type RouteFactory, USER_TAGS, webhookParams } from './params.js'

export const deleteWebhook: RouteFactory = ({ endpoints }) => ({
  method: 'DELETE',
  path: '/v1/users/{uid}/webhooks/{id}',
  options: {
    tags: USER_TAGS,
    description: 'Delete a webhook, with its delivery log; deliveries still waiting are dropped',
    validate: { params: webhookParams },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      await endpoints.remove(uid, id)
      return ok(null)
    }
  }
})
