import type { EventName } from './types.js'

/**
 * The names of Kronus's own events, at run time (the type map above exists only at
 * compile time). `satisfies` keeps every entry a real event name.
 */
export const CORE_EVENT_NAMES = [
  'user.created',
  'user.updated',
  'user.deleted',
  'contact.created',
  'contact.updated',
  'contact.deleted',
  'probe_settings.updated',
  'probe_settings.paused',
  'probe_settings.resumed',
  'probe.started',
  'probe.follow_up_sent',
  'probe.reply_received',
  'probe.status_changed',
  'user.aliveness_changed',
  'emergency.triggered',
  'message.received',
  'message.sent',
  'message.failed',
  'message.delivered',
  'message.undelivered',
  'call.placed',
  'call.failed',
  'call.answered',
  'alarm.raised',
  'alarm.escalated',
  'alarm.acknowledged',
  'alarm.resolved',
  'limit.reached',
  'job.dead',
  'server.started',
  'server.stopping',
  'kronus.degraded',
  'kronus.recovered'
] as const satisfies readonly EventName[]

/** An event name: lower-case dotted words, e.g. `backup.completed` or `my-plugin.report_sent`. */
export const EVENT_NAME_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/
