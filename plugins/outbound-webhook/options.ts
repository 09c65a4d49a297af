import Joi from 'joi'
import { textSchema } from 'kronus'
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './event-schemas.js'
import { isValidSecret } from './signing.js'
import type { Resolver } from './ssrf-guard.js'

export interface ConfiguredEndpoint {
  url: string
  /** A whsec_ secret (base64 of 24 to 64 bytes); keep it out of the file, e.g. in an environment variable. */
  secret: string
  events: WebhookEventType[]
  description?: string
}

export interface OutboundWebhookOptions {
  /** Endpoints that receive these events of every user. */
  endpoints?: ConfiguredEndpoint[]
  /** Deliver to loopback, private, link-local and metadata addresses too. Default false; dev mode allows them. */
  allowPrivateNetworks?: boolean
  /** How long one attempt may take, connect to last byte. Default 10 000 ms. */
  timeoutMs?: number
  /**
   * Deliveries run at the same time, on workers of their own: a slow endpoint holds only
   * these, never the slots that send texts (alarms' least of all) and run timers. Default 4.
   */
  concurrency?: number
  /** Attempts per delivery before it is given up. Default 13: with the queue's backoff, about a day. */
  maxAttempts?: number
  /** An endpoint whose every attempt has failed for this long is disabled. Default 3 days. */
  disableAfterFailingHours?: number
  /** After rotate_secret, the old secret keeps signing (beside the new one) this long. Default 24 hours. */
  secretOverlapHours?: number
  /** Webhooks one user may have. Default 10. */
  maxEndpointsPerUser?: number
  /** Attempts older than this leave the delivery log. Default 30 days. */
  deliveryLogRetentionDays?: number
  /** DNS for webhook hosts; the system resolver by default. Tests replace it to play DNS offline. */
  resolve?: Resolver
}

export type ResolvedOptions = Required<Omit<OutboundWebhookOptions, 'resolve'>> &
  Pick<OutboundWebhookOptions, 'resolve'>

export const webhookUrl = textSchema
  .trim()
  .max(2048)
  .uri({ scheme: ['http', 'https'] })
  .messages({
    'string.uriCustomScheme': '{{#label}} must be an http or https URL',
    'string.uri': '{{#label}} must be an http or https URL'
  })

export const eventList = Joi.array()
  .items(
    Joi.string()
      .valid(...WEBHOOK_EVENT_TYPES)
      .messages({ 'any.only': `{{#label}} must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  )
  .min(1)
  .unique()

const secret = Joi.string()
  .custom((value: string, helpers) => (isValidSecret(value) ? value : helpers.error('any.invalid')))
  .messages({
    'any.invalid': '{{#label}} must be whsec_ followed by the base64 of 24 to 64 random bytes'
  })

export const optionsSchema = Joi.object<OutboundWebhookOptions>({
  endpoints: Joi.array()
    .items(
      Joi.object({
        url: webhookUrl.required(),
        secret: secret.required(),
        events: eventList.required(),
        description: Joi.string().max(500).allow('').default('')
      })
    )
    .unique('url')
    .default([]),
  allowPrivateNetworks: Joi.boolean().default(false),
  timeoutMs: Joi.number().integer().min(1).max(60_000).default(10_000),
  concurrency: Joi.number().integer().min(1).max(64).default(4),
  maxAttempts: Joi.number().integer().min(1).max(50).default(13),
  disableAfterFailingHours: Joi.number().positive().default(72),
  secretOverlapHours: Joi.number()
    .min(0)
    .max(24 * 30)
    .default(24),
  maxEndpointsPerUser: Joi.number().integer().min(1).default(10),
  deliveryLogRetentionDays: Joi.number().positive().default(30),
  resolve: Joi.function()
})
