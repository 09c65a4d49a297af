import type { KronusEvents } from 'kronus'

/*
 * The events a webhook can receive, each with the JSON Schema (draft 2020-12) of the body
 * Kronus POSTs: `{ type, timestamp, data }`, where `data` is the event's payload as the
 * event log stores it (the same object GET /v1/events shows). docs/WEBHOOKS.md prints
 * these schemas; a test keeps the two identical.
 */

export type JsonSchema = { [keyword: string]: unknown }

const integer: JsonSchema = { type: 'integer', minimum: 1 }
const probeStatus: JsonSchema = { type: 'string', enum: ['pending', 'good', 'bad', 'unavailable', 'cancelled'] }
const aliveness: JsonSchema = { type: 'string', enum: ['good', 'bad', 'unavailable', 'unknown'] }

/** Every payload field must be described, and nothing else: the type checker holds us to it. */
type PayloadSchema<N extends keyof KronusEvents> = { [K in keyof KronusEvents[N] & string]: JsonSchema }

function bodySchema<N extends keyof KronusEvents & string>(
  type: N,
  description: string,
  data: PayloadSchema<N>
): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: type,
    description,
    type: 'object',
    required: ['type', 'timestamp', 'data'],
    properties: {
      type: { const: type },
      timestamp: { type: 'string', format: 'date-time', description: 'When the event happened (RFC 3339, UTC)' },
      data: { type: 'object', required: Object.keys(data), properties: data }
    }
  }
}

export const WEBHOOK_EVENT_SCHEMAS = {
  'probe.started': bodySchema('probe.started', 'A probe began: the user is being asked whether they are OK.', {
    userId: integer,
    probeId: integer,
    origin: { type: 'string', enum: ['scheduled', 'on_demand'] },
    maxRetries: { type: 'integer', minimum: 0 },
    waitTimeInMinutes: { type: 'integer', minimum: 1 }
  }),
  'probe.follow_up_sent': bodySchema(
    'probe.follow_up_sent',
    'The user did not answer in time: the question was asked again.',
    {
      userId: integer,
      probeId: integer,
      retryCount: { type: 'integer', minimum: 1 }
    }
  ),
  'probe.status_changed': bodySchema(
    'probe.status_changed',
    'A pending probe ended: good, bad, unavailable or cancelled.',
    {
      userId: integer,
      probeId: integer,
      from: probeStatus,
      to: probeStatus,
      reason: { type: 'string' }
    }
  ),
  'user.aliveness_changed': bodySchema(
    'user.aliveness_changed',
    "A probe outcome changed the user's state (good, bad, unavailable or unknown); a repeat of the same outcome sends nothing.",
    {
      userId: integer,
      from: aliveness,
      to: aliveness,
      probeId: { type: ['integer', 'null'], minimum: 1 }
    }
  ),
  'emergency.triggered': bodySchema(
    'emergency.triggered',
    'A probe ended badly: the emergency contacts are being alerted.',
    {
      userId: integer,
      probeId: integer,
      status: { type: 'string', enum: ['bad', 'unavailable'] }
    }
  ),
  'probe_settings.updated': bodySchema('probe_settings.updated', "The user's probe schedule changed.", {
    userId: integer,
    active: { type: 'boolean' },
    cronExpression: { type: 'string' },
    nextFireAt: { type: ['integer', 'null'], description: 'Next probe, epoch milliseconds; null while probes are off' }
  })
} as const satisfies { [N in keyof KronusEvents]?: JsonSchema }

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_SCHEMAS
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_SCHEMAS) as WebhookEventType[]

export function isWebhookEventType(type: string): type is WebhookEventType {
  return Object.hasOwn(WEBHOOK_EVENT_SCHEMAS, type)
}
