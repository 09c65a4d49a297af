import Joi from 'joi'
import { ADMIN_AUTH, errorSchema, paged, pagedSchema, pageQuery } from 'kronus'
import type { RouteFactory } from './params.js'

const failedDeliverySchema = Joi.object({
  id: Joi.number().integer().description('The id of its last attempt'),
  endpoint_id: Joi.number().integer(),
  user_id: Joi.number().integer().allow(null).description("The endpoint's user; null for a configured endpoint"),
  event: Joi.string().description('The event type'),
  status: Joi.string()
    .valid('failed', 'dead')
    .description("'failed': it will be tried again; 'dead': given up (attempts used up, or the endpoint is off)"),
  attempts: Joi.number().integer(),
  last_error: Joi.string().allow(null),
  last_attempt_at: Joi.string().isoDate()
}).label('FailedWebhookDelivery')

/** GET /plugins/outbound-webhook/deliveries?status=failed: what did not get through, for an admin. */
export const listFailedDeliveries: RouteFactory = ({ log, maxAttempts }) => ({
  method: 'GET',
  path: '/deliveries',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'webhooks'],
    description:
      'Admin: every webhook delivery (one event to one endpoint) whose last attempt failed, of every endpoint, newest ' +
      'first, 100 a page: still being retried (failed) or given up (dead)',
    plugins: {
      'hapi-swagger': {
        responses: {
          400: { description: 'status is not failed, or page is not a page number', schema: errorSchema },
          401: { description: 'No token, or a bad one', schema: errorSchema },
          403: { description: 'The caller is not an admin', schema: errorSchema }
        }
      }
    },
    validate: {
      query: pageQuery.keys({
        status: Joi.string()
          .valid('failed')
          .default('failed')
          .messages({ 'any.only': '{{#label}} must be failed (every failed delivery, given up or not)' })
      })
    },
    response: { schema: pagedSchema(failedDeliverySchema, 'FailedWebhookDeliveryList') },
    handler: async (request) => paged(await log.failed((request.query as { page: number }).page, maxAttempts))
  }
})
