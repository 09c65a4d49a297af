import { assertSelf, ok } from 'kronus'
import { deliveryParams, type RouteFactory, USER_TAGS } from './params.js'

export const redeliver: RouteFactory = ({ endpoints, log, dispatcher }) => ({
  method: 'POST',
  path: '/v1/users/{uid}/webhooks/{id}/deliveries/{deliveryId}/redeliver',
  options: {
    tags: USER_TAGS,
    description: "Send a delivery's event to the webhook again (same webhook-id), with the usual retries",
    validate: { params: deliveryParams },
    handler: async (request, h) => {
      const { uid, id, deliveryId } = request.params as { uid: number; id: number; deliveryId: number }
      assertSelf(request, uid)
      const endpoint = await endpoints.findForUser(uid, id)
      const delivery = await log.find(id, deliveryId)
      const { queued } = await dispatcher.redeliver(endpoint, Number(delivery.event_id))
      return h.response(ok({ endpoint_id: id, event_id: Number(delivery.event_id), queued })).code(202)
    }
  }
})
