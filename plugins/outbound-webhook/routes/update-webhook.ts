import Joi from 'joi'
import { assertSelf, ok, textSchema } from 'kronus'
import type { WebhookPatch } from '../endpoints.js'
import { eventList, webhookUrl } from '../options.js'
import { type RouteFactory, USER_TAGS, webhookParams } from './params.js'

export const updateWebhook: RouteFactory = ({ endpoints }) => ({
  method: 'PUT',
  path: '/v1/users/{uid}/webhooks/{id}',
  options: {
    tags: USER_TAGS,
    description: 'Change a webhook; active: true also turns back on a webhook that Kronus disabled',
    validate: {
      params: webhookParams,
      payload: Joi.object({
        url: webhookUrl,
        events: eventList,
        description: textSchema.trim().max(500).allow(''),
        active: Joi.boolean()
      })
        .options({ stripUnknown: true })
        .or('url', 'events', 'description', 'active')
        .messages({ 'object.missing': 'the body must contain at least one of url, events, description, active' })
        .required()
    },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      return ok(await endpoints.update(uid, id, request.payload as WebhookPatch))
    }
  }
})
