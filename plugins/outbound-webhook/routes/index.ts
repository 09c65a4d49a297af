import type { ServerRoute } from '@hapi/hapi'
import { createWebhook } from './create-webhook.js'
import { deleteWebhook } from './delete-webhook.js'
import { enableConfigured } from './enable-configured.js'
import { getWebhook } from './get-webhook.js'
import { listConfigured } from './list-configured.js'
import { listConfiguredDeliveries } from './list-configured-deliveries.js'
import { listDeliveries } from './list-deliveries.js'
import { listFailedDeliveries } from './list-failed-deliveries.js'
import { listWebhooks } from './list-webhooks.js'
import type { RouteDeps } from './params.js'
import { redeliver } from './redeliver.js'
import { rotateSecret } from './rotate-secret.js'
import { listSchemas } from './schemas.js'
import { updateWebhook } from './update-webhook.js'

/** Routes at /v1/users/{uid}/webhooks..., a user's own. */
export function publicRoutes(deps: RouteDeps): ServerRoute[] {
  return [
    listWebhooks,
    createWebhook,
    getWebhook,
    updateWebhook,
    deleteWebhook,
    rotateSecret,
    listDeliveries,
    redeliver
  ].map((route) => route(deps))
}

/** Routes under /plugins/outbound-webhook. */
export function pluginRoutes(deps: RouteDeps): ServerRoute[] {
  return [
    listSchemas(),
    ...[listConfigured, listConfiguredDeliveries, enableConfigured, listFailedDeliveries].map((route) => route(deps))
  ]
}
