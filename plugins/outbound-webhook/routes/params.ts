import type { ServerRoute } from '@hapi/hapi'
import Joi from 'joi'
import { idSchema } from 'kronus'
import type { DeliveryLog } from '../delivery-log.js'
import type { Dispatcher } from '../dispatcher.js'
import type { WebhookEndpoints } from '../endpoints.js'

/*
 * What the plugin's routes share besides Kronus's own HTTP helpers (access checks,
 * envelope, paging), which they import from `kronus` so they keep its REST contract.
 */

export interface RouteDeps {
  endpoints: WebhookEndpoints
  log: DeliveryLog
  dispatcher: Dispatcher
  /** How many attempts a delivery gets (options.maxAttempts): after them it is given up. */
  maxAttempts: number
}

export type RouteFactory = (deps: RouteDeps) => ServerRoute

export const webhookParams = Joi.object({ uid: idSchema.required(), id: idSchema.required() })
export const deliveryParams = Joi.object({
  uid: idSchema.required(),
  id: idSchema.required(),
  deliveryId: Joi.number().integer().min(1).required()
})
export const endpointParams = Joi.object({ id: idSchema.required() })

export const USER_TAGS = ['api', 'webhooks']
