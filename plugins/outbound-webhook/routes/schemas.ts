import type { ServerRoute } from '@hapi/hapi'
import { ok } from 'kronus'
import { WEBHOOK_EVENT_SCHEMAS } from '../event-schemas.js'

/** Public: a receiver's developer needs the schemas before they have an account. */
export const listSchemas = (): ServerRoute => ({
  method: 'GET',
  path: '/schemas',
  options: {
    auth: false,
    tags: ['api', 'webhooks'],
    description: 'The JSON Schema of the webhook body of every event type a webhook can receive',
    handler: () => ok(WEBHOOK_EVENT_SCHEMAS)
  }
})
