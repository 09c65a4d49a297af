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
const userOrNull: JsonSchema = {
  type: ['integer', 'null'],
  minimum: 1,
  description: 'The Kronus user the text or call was about, or null'
}
const phone: JsonSchema = { type: 'string', description: 'E.164 phone number' }
const ref: JsonSchema = {
  type: ['string', 'null'],
  description:
    'What it was for: alarm-contact:<id> for an alarm text or call to a contact, alarm-user:<alarm id> for one to the user; null for none'
}
const contactIds: JsonSchema = {
  type: 'array',
  items: { type: 'integer', minimum: 1 },
  description: 'Ids of the contacts concerned (a contact deleted since is left out)'
}

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
  }),
  'checkin_link.created': bodySchema(
    'checkin_link.created',
    'The user created their check-in link, or replaced it (rotated: the old link stopped working). The link itself is never sent.',
    { userId: integer, rotated: { type: 'boolean' } }
  ),
  'checkin.proof_of_life': bodySchema(
    'checkin.proof_of_life',
    "The user's check-in link was pressed with no check-in waiting: proof of life, which answers their next scheduled check-in in advance if it falls within their checkin_window_minutes.",
    { userId: integer, at: { type: 'integer', description: 'When, epoch milliseconds' } }
  ),
  'probe_settings.paused': bodySchema(
    'probe_settings.paused',
    'The user paused their scheduled check-ins (by text or the API); a waiting check-in was cancelled.',
    {
      userId: integer,
      pausedUntil: { type: 'integer', description: 'No scheduled check-in before this, epoch milliseconds' },
      contactsTold: {
        type: 'boolean',
        description: 'The pause is longer than 7 days and the emergency contacts were texted about it'
      }
    }
  ),
  'probe_settings.resumed': bodySchema('probe_settings.resumed', "The user's pause is over.", {
    userId: integer,
    reason: {
      type: 'string',
      enum: ['ended', 'resumed'],
      description:
        "'ended': the pause ran out (the user is texted when check-ins resume); 'resumed': the user ended it early"
    }
  }),
  'alarm.raised': bodySchema(
    'alarm.raised',
    "An alarm was raised for the user: their emergency contacts are being alerted until one acknowledges. 'said_no' is an N to a check-in, 'distress' words of distress, 'no_answer' a check-in left unanswered, 'panic' SOS, HELP ME or 911 at any time, 'unreachable' the user's own number can no longer receive texts, 'duress' a duress word.",
    {
      alarmId: integer,
      userId: integer,
      trigger: { type: 'string', enum: ['said_no', 'distress', 'no_answer', 'panic', 'unreachable', 'duress'] },
      quote: { type: ['string', 'null'], description: "The person's own words that raised it, or null" },
      code: { type: 'string', description: 'The short code contacts answer with, e.g. OK 42' },
      probeId: { type: ['integer', 'null'], minimum: 1, description: 'The check-in it ended, or null' },
      contactIds: { ...contactIds, description: 'The contacts alerted first' }
    }
  ),
  'alarm.escalated': bodySchema(
    'alarm.escalated',
    "Nobody acknowledged in time: the alarm went a step further. 'next_contact' alerted the next contact (ordered mode), 'reminder' reminded contacts who had not acknowledged, 'call' called a contact, 'exhausted' means steps and reminders ran out with nobody acknowledging (the alarm stays open).",
    {
      alarmId: integer,
      userId: integer,
      action: { type: 'string', enum: ['next_contact', 'reminder', 'call', 'exhausted'] },
      step: { type: 'integer', minimum: 0 },
      contactIds: { ...contactIds, description: 'The contacts this step reached' }
    }
  ),
  'alarm.acknowledged': bodySchema(
    'alarm.acknowledged',
    'A contact said they will check on the user (OK <code> by text, or 1 on a call): escalation stops.',
    {
      alarmId: integer,
      userId: integer,
      contactId: { type: ['integer', 'null'], minimum: 1, description: 'The contact, or null when deleted since' },
      name: { type: 'string', description: "The contact's name as on the alarm" },
      via: { type: 'string', enum: ['sms', 'call'] }
    }
  ),
  'alarm.resolved': bodySchema(
    'alarm.resolved',
    "The alarm ended: 'user_ok' the user answered OK, 'contact_safe' a contact sent SAFE <code>, 'admin' through the API. The contacts alerted are told.",
    {
      alarmId: integer,
      userId: integer,
      reason: { type: 'string', enum: ['user_ok', 'contact_safe', 'admin'] },
      by: { type: 'string', description: 'Who cleared it, by name' }
    }
  ),
  'message.delivered': bodySchema(
    'message.delivered',
    'The provider reports a text as delivered to the phone (a delivery receipt).',
    {
      to: phone,
      userId: userOrNull,
      channel: { type: 'string' },
      messageId: { type: 'string', description: "The provider's id of the text" },
      ref
    }
  ),
  'message.undelivered': bodySchema(
    'message.undelivered',
    'The provider accepted a text but could not deliver it (e.g. Twilio 30003 unreachable, 30005 unknown number, 30006 landline, 30007 filtered, 30008 unknown error).',
    {
      to: phone,
      userId: userOrNull,
      channel: { type: 'string' },
      messageId: { type: 'string', description: "The provider's id of the text" },
      ref,
      status: { type: 'string', enum: ['undelivered', 'failed'] },
      errorCode: { type: ['integer', 'null'], description: "The provider's error code, or null" },
      error: { type: 'string' }
    }
  ),
  'call.placed': bodySchema('call.placed', 'The provider accepted a voice call (an alarm call to a contact).', {
    to: phone,
    userId: userOrNull,
    channel: { type: 'string' },
    callId: { type: ['string', 'null'], description: "The provider's id of the call" },
    ref
  }),
  'call.failed': bodySchema(
    'call.failed',
    'A voice call could not be placed; permanent when retrying cannot help (e.g. an invalid number).',
    {
      to: phone,
      userId: userOrNull,
      channel: { type: 'string' },
      ref,
      error: { type: 'string' },
      permanent: { type: 'boolean' }
    }
  ),
  'call.answered': bodySchema(
    'call.answered',
    'The person called pressed keys: 1 acknowledges the alarm. It names no user, so only configured endpoints receive it.',
    {
      to: phone,
      channel: { type: 'string' },
      callId: { type: ['string', 'null'], description: "The provider's id of the call" },
      ref,
      digits: { type: 'string' }
    }
  ),
  'limit.reached': bodySchema(
    'limit.reached',
    "A daily text limit was reached: once per limit and user (or the server) in 24 hours. Texts that may wait (command replies, invitations) are not sent until it frees; alarms' texts and check-ins always are.",
    {
      limit: { type: 'string', enum: ['texts_per_user_per_day', 'texts_per_server_per_day'] },
      userId: {
        type: ['integer', 'null'],
        minimum: 1,
        description: "The user whose allowance is spent; null for the server's"
      },
      max: { type: 'integer', minimum: 1, description: 'The limit: texts in 24 hours' },
      refused: {
        type: 'boolean',
        description: "True: a text was refused; false: texts that are never refused passed the server's limit"
      }
    }
  ),
  'kronus.degraded': bodySchema(
    'kronus.degraded',
    'The watchdog saw a condition start that keeps Kronus from doing its work (no way to text, texts failing, the job queue behind, a plugin in trouble), seen by two checks a minute apart: once per start. /health says degraded and the heartbeat pings /fail while it lasts.',
    {
      condition: {
        type: 'string',
        description:
          'Which condition: no_channel, sends_failing:<channel>, account:<channel>, queue_behind, plugin:<name>'
      },
      reason: { type: 'string', description: 'What is wrong, in words for the operator' },
      since: { type: 'integer', description: 'When the watchdog first saw it (epoch ms)' }
    }
  ),
  'kronus.recovered': bodySchema('kronus.recovered', 'A condition of a kronus.degraded is over: once per end.', {
    condition: { type: 'string', description: 'The condition of the kronus.degraded' },
    reason: { type: 'string', description: 'The reason the kronus.degraded gave' },
    since: { type: 'integer', description: 'When it started (epoch ms)' },
    durationMs: { type: 'integer', minimum: 0, description: 'How long it lasted, in ms' }
  })
} as const satisfies { [N in keyof KronusEvents]?: JsonSchema }

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_SCHEMAS
export const WEBHOOK_EVENT_TYPES = Object.keys(WEBHOOK_EVENT_SCHEMAS) as WebhookEventType[]

export function isWebhookEventType(type: string): type is WebhookEventType {
  return Object.hasOwn(WEBHOOK_EVENT_SCHEMAS, type)
}
