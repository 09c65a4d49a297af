import Joi from 'joi'
import { assertSelf, ok, textSchema, uidParams } from 'kronus'
import type { NewWebhook } from '../endpoints.js'
import { eventList, webhookUrl } from '../options.js'
import { type RouteFactory, USER_TAGS } from './params.js'

export const createWebhook: RouteFactory = ({ endpoints }) => ({
  method: 'POST',
  path: '/v1/users/{uid}/webhooks',
  options: {
    tags: USER_TAGS,
    description: 'Add a webhook; the response shows its whsec_ signing secret, this once only',
    validate: {
      params: uidParams,
      payload: Joi.object({
        url: webhookUrl.required(),
        events: eventList.required(),
        description: textSchema.trim().max(500).allow('').default(''),
        active: Joi.boolean().default(true)
      })
        .options({ stripUnknown: true })
        .required()
    },
    handler: async (request, h) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      return h.response(ok(await endpoints.create(uid, request.payload as NewWebhook))).code(201)
    }
  }
})
