import Boom from '@hapi/boom'
import type { Request, ServerRoute } from '@hapi/hapi'
import Joi from 'joi'
import type { DeliveryLog } from './delivery-log.js'
import type { Dispatcher } from './dispatcher.js'
import type { WebhookEndpoints } from './endpoints.js'
import type { Page } from './paging.js'

/*
 * What the plugin's routes share. They follow Kronus's REST contract (envelope, paging,
 * 400 naming the field, 403, 404) without reaching into Kronus's internals: Boom errors
 * go through the same error mapping as the core's.
 */

export interface RouteDeps {
  endpoints: WebhookEndpoints
  log: DeliveryLog
  dispatcher: Dispatcher
}

export type RouteFactory = (deps: RouteDeps) => ServerRoute

interface Credentials {
  userId?: number
  isAdmin?: boolean
}

/** A user's webhooks are theirs alone, as their contacts are: not even an admin may touch them. */
export function assertSelf(request: Request, uid: number): void {
  const credentials = request.auth.credentials as Credentials | undefined
  if (!credentials?.userId) throw Boom.forbidden('authentication required')
  if (credentials.userId !== uid) throw Boom.forbidden('you can only access your own records')
}

export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data }
}

export function paged<T>(page: Page<T>): { success: true; data: T[]; paging: Page<T>['paging'] } {
  return { success: true, data: page.results, paging: page.paging }
}

const id = Joi.number().integer().min(1).max(2_147_483_647)
export const uidParams = Joi.object({ uid: id.required() })
export const webhookParams = Joi.object({ uid: id.required(), id: id.required() })
export const deliveryParams = Joi.object({ uid: id.required(), id: id.required(), deliveryId: Joi.number().integer().min(1).required() })
export const endpointParams = Joi.object({ id: id.required() })
export const pageQuery = Joi.object({
  page: Joi.number().integer().min(1).max(1_000_000).default(1).description('Page number, from 1; pages hold 100 items')
})

export const USER_TAGS = ['api', 'webhooks']
