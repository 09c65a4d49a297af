import Joi from 'joi'
import { CONTACT_CONSENT_STATES, PROBE_STATUS_NAMES } from '../domain/constants.js'
import { isValidCron } from '../scheduling/cron.js'
import { ALARM_CONTACT_STATES, ALARM_STATUSES, ALARM_TRIGGERS } from '../services/alarms-read.js'
import { passwordProblem } from '../services/passwords.js'
import { USER_STATES } from '../services/user-status.js'
import { CONTROL_CHARACTER } from '../util/text.js'
import { isValidTimeZone } from '../util/time.js'

/*
 * Field rules of the REST contract, shared by the routes and by their documentation.
 * Unknown fields are stripped, never stored: `id`, `role_id` and `user_id` can't be set through a body.
 */
export const id = Joi.number().integer().min(1).max(2_147_483_647)
/** Every text field of the REST contract, core and plugin routes alike, starts from this rule. */
export const text = Joi.string().pattern(CONTROL_CHARACTER, { invert: true }).messages({
  'string.pattern.invert.base': '{{#label}} must not contain control characters'
})
export const name = text.trim().min(1).max(100)
export const phoneNumber = text
  .trim()
  .pattern(/^\+[1-9]\d{1,14}$/)
  .messages({
    'string.pattern.base': '{{#label}} must be an E.164 phone number such as +12345678900'
  })
export const email = text
  .trim()
  .lowercase()
  .max(320)
  .email({ tlds: { allow: false } })
/** A new password: the rules of services/passwords.ts, checked here too so that a bad one is a 400 naming its field. */
export const password = text
  .max(1024)
  .pattern(/^\S+$/)
  .custom((value: string, helpers) => {
    const problem = passwordProblem(value)
    return problem ? helpers.error('password.unacceptable', { problem }) : value
  })
  .messages({
    'string.pattern.base': '{{#label}} must not contain spaces',
    'password.unacceptable': '{{#label}} {{#problem}}'
  })
/** A password being checked, not set: any length an earlier Kronus accepted. */
export const currentPassword = text.min(1).max(1024)
export const cronExpression = text
  .trim()
  .max(120)
  .custom((value: string, helpers) => {
    return isValidCron(value) ? value : helpers.error('any.invalid')
  })
  .messages({ 'any.invalid': '{{#label}} must be a valid 5-field cron expression such as "0 18 * * 3"' })
export const timeZone = text
  .max(64)
  .custom((value: string, helpers) => {
    return isValidTimeZone(value) ? value : helpers.error('any.invalid')
  })
  .messages({ 'any.invalid': '{{#label}} must be an IANA time zone such as "America/Toronto"' })

const localTime = text
  .pattern(/^([01]\d|2[0-3]):[0-5]\d$/)
  .messages({ 'string.pattern.base': '{{#label}} must be a 24-hour time "HH:MM" such as "22:00"' })
/** Quiet hours in the user's zone; end before start crosses midnight. */
export const quietHours = Joi.object({ start: localTime.required(), end: localTime.required() }).description(
  "No scheduled check-in or follow-up between these local times (the user's time_zone); end before start crosses midnight"
)
/** An RFC 3339 time with a zone (Z or ±hh:mm), as the API writes them. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
export const rfc3339 = text
  .custom((value: string, helpers) =>
    RFC3339.test(value) && !Number.isNaN(Date.parse(value)) ? value : helpers.error('any.invalid')
  )
  .messages({ 'any.invalid': '{{#label}} must be an RFC 3339 time such as "2027-01-10T00:00:00Z"' })

export const uidParams = Joi.object({ uid: id.required() })
export const contactParams = Joi.object({ uid: id.required(), id: id.required() })

export const statusQuery = (statuses: readonly string[]) =>
  Joi.string()
    .valid(...statuses)
    .messages({ 'any.only': `{{#label}} must be one of ${statuses.join(', ')}` })

const timestamps = {
  id: Joi.number().integer(),
  created_at: Joi.string().isoDate(),
  updated_at: Joi.string().isoDate()
}

export const probeSettingsSchema = Joi.object({
  ...timestamps,
  user_id: Joi.number().integer(),
  active: Joi.boolean(),
  cron_expression: Joi.string(),
  max_retries: Joi.number().integer(),
  wait_time_in_minutes: Joi.number().integer(),
  time_zone: Joi.string().allow(null),
  next_fire_at: Joi.string()
    .isoDate()
    .allow(null)
    .description(
      'The next fire of the cron; a fire in quiet hours is sent at their end, one during a pause not at all'
    ),
  quiet_hours: quietHours.label('QuietHours').allow(null),
  paused_until: Joi.string()
    .isoDate()
    .allow(null)
    .description('No scheduled check-in before this; null when not paused'),
  checkin_window_minutes: Joi.number()
    .integer()
    .description(
      'A press of your check-in link this many minutes or less before a scheduled check-in answers it; 0 = off'
    )
}).label('ProbeSettings')

export const userSchema = Joi.object({
  ...timestamps,
  first_name: Joi.string(),
  last_name: Joi.string(),
  email: Joi.string(),
  phone_number: Joi.string(),
  role_id: Joi.number().integer(),
  probe_settings: probeSettingsSchema.optional()
}).label('User')

export const contactSchema = Joi.object({
  ...timestamps,
  user_id: Joi.number().integer(),
  first_name: Joi.string(),
  last_name: Joi.string(),
  phone_number: Joi.string(),
  email: Joi.string().allow(''),
  is_emergency_contact: Joi.boolean(),
  sms_opted_out_at: Joi.string()
    .isoDate()
    .allow(null)
    .description('When the contact texted STOP: alert texts can no longer reach them; null otherwise'),
  consent_state: Joi.string()
    .valid(...CONTACT_CONSENT_STATES)
    .allow(null)
    .description(
      "Whether the emergency contact agreed to be one: 'pending' until they reply YES and the code of their invitation, 'agreed', or 'refused' (they replied STOP); null for a contact never asked (not an emergency contact). Alarms reach pending contacts too"
    ),
  invited_at: Joi.string().isoDate().allow(null).description('When their invitation was texted; null if never'),
  consent_at: Joi.string().isoDate().allow(null).description('When they agreed or refused; null until then')
}).label('Contact')

export const probeSchema = Joi.object({
  ...timestamps,
  user_id: Joi.number().integer(),
  last_response: Joi.string().allow(''),
  retry_count: Joi.number().integer(),
  probe_status_id: Joi.number().integer(),
  status: Joi.object({ ...timestamps, name: Joi.string().valid(...PROBE_STATUS_NAMES) }).label('ProbeStatus'),
  emergency_probe: Joi.object({
    ...timestamps,
    probe_id: Joi.number().integer(),
    contact_id: Joi.number().integer().allow(null)
  })
    .label('EmergencyProbe')
    .allow(null)
    .description(
      'One emergency_probes row of the probe, as before alarms (kept for older clients; alerted_contacts lists everyone)'
    ),
  alerted_contacts: Joi.array()
    .items(
      Joi.object({
        contact_id: Joi.number().integer().allow(null),
        name: Joi.string().allow(null),
        phone_number: Joi.string().allow(null),
        state: Joi.string()
          .valid(...ALARM_CONTACT_STATES)
          .allow(null)
          .description("The alarm contact's state; null for alerts from before alarms"),
        alarm_id: Joi.number().integer().allow(null),
        alerted_at: Joi.string().isoDate().allow(null)
      }).label('AlertedContact')
    )
    .description('Everyone the alarm this probe raised was sent to')
}).label('Probe')

const isoDateOrNull = Joi.string().isoDate().allow(null)

export const escalationSchema = Joi.object({
  user_id: Joi.number().integer(),
  mode: Joi.string().valid('all', 'ordered'),
  step_minutes: Joi.number().integer(),
  repeats: Joi.number().integer(),
  voice_calls: Joi.boolean(),
  duress_word_set: Joi.boolean().description(
    'Whether a duress word is set (the word itself is never shown: PUT it to change it, or null to remove it)'
  ),
  updated_at: isoDateOrNull.description('When the user last changed them; null while they have the defaults')
}).label('EscalationSettings')

export const alarmContactSchema = Joi.object({
  id: Joi.number().integer(),
  contact_id: Joi.number().integer().allow(null).description('The contact it was, or null once deleted'),
  name: Joi.string(),
  phone_number: Joi.string(),
  position: Joi.number().integer().description('Order of escalation, from 0'),
  state: Joi.string()
    .valid(...ALARM_CONTACT_STATES)
    .description('waiting (not alerted yet), queued, sent, delivered, undelivered, acknowledged or called'),
  error_code: Joi.number().integer().allow(null),
  error: Joi.string().allow(null, ''),
  texts_sent: Joi.number().integer(),
  calls_placed: Joi.number().integer(),
  alerted_at: isoDateOrNull,
  acknowledged_at: isoDateOrNull,
  updated_at: Joi.string().isoDate()
}).label('AlarmContact')

export const alarmTimelineSchema = Joi.object({
  id: Joi.number().integer(),
  kind: Joi.string(),
  alarm_contact_id: Joi.number().integer().allow(null),
  detail: Joi.string().allow(null, ''),
  created_at: Joi.string().isoDate()
}).label('AlarmTimelineEntry')

export const alarmSchema = Joi.object({
  id: Joi.number().integer(),
  user: Joi.object({
    id: Joi.number().integer(),
    name: Joi.string(),
    phone_number: Joi.string()
  })
    .label('AlarmUser')
    .description('As they were when the alarm was raised'),
  trigger: Joi.string().valid(...ALARM_TRIGGERS),
  quote: Joi.string().allow(null, ''),
  code: Joi.string(),
  status: Joi.string().valid(...ALARM_STATUSES),
  probe_id: Joi.number().integer().allow(null),
  escalation: Joi.object({
    mode: Joi.string().valid('all', 'ordered'),
    step_minutes: Joi.number().integer(),
    repeats: Joi.number().integer(),
    voice_calls: Joi.boolean()
  })
    .label('AlarmEscalation')
    .description('The escalation settings as they were when the alarm was raised'),
  step: Joi.number().integer(),
  repeats_sent: Joi.number().integer(),
  exhausted_at: isoDateOrNull,
  acknowledged_by: Joi.object({
    alarm_contact_id: Joi.number().integer().allow(null),
    contact_id: Joi.number().integer().allow(null),
    name: Joi.string().allow(null)
  })
    .label('AlarmAcknowledger')
    .allow(null),
  acknowledged_at: isoDateOrNull,
  resolved_reason: Joi.string().allow(null, ''),
  resolved_by: Joi.string().allow(null, ''),
  resolved_at: isoDateOrNull,
  created_at: Joi.string().isoDate(),
  updated_at: Joi.string().isoDate(),
  contacts: Joi.array().items(alarmContactSchema),
  timeline: Joi.array().items(alarmTimelineSchema)
}).label('Alarm')

const userStatusFields = {
  state: Joi.string()
    .valid(...USER_STATES)
    .description(
      "The first that holds: 'alarm' (an alarm not resolved), 'waiting' (a check-in sent, no answer yet), 'paused', 'off' (check-ins off, or the user texted STOP), 'ok' (last outcome good), 'unknown' (no outcome yet), 'not_ok' (last outcome bad or unanswered, no alarm open)"
    ),
  aliveness: Joi.string()
    .valid('good', 'bad', 'unavailable', 'unknown')
    .description('The outcome of the last check-in that had one (unavailable: unanswered); unknown before any'),
  last_checkin: Joi.object({
    id: Joi.number().integer(),
    status: Joi.string().valid('good', 'bad', 'unavailable'),
    at: Joi.string().isoDate()
  })
    .label('LastCheckin')
    .allow(null)
    .description('The last check-in that had an outcome, and when it got it'),
  waiting_checkin: Joi.object({
    id: Joi.number().integer(),
    sent_at: Joi.string().isoDate(),
    follow_ups_sent: Joi.number().integer(),
    next_follow_up_at: isoDateOrNull.description(
      'When the next follow-up is texted; null when none is left (the check-in then ends unanswered)'
    )
  })
    .label('WaitingCheckin')
    .allow(null)
    .description('The check-in waiting for an answer, or null'),
  open_alarm: Joi.object({
    id: Joi.number().integer(),
    code: Joi.string(),
    state: Joi.string().valid('open', 'acknowledged'),
    trigger: Joi.string().valid(...ALARM_TRIGGERS),
    opened_at: Joi.string().isoDate()
  })
    .label('OpenAlarm')
    .allow(null)
    .description('The latest alarm not resolved (GET /v1/users/{uid}/alarms has its contacts and timeline), or null'),
  next_checkin_at: isoDateOrNull.description(
    'When the next scheduled check-in is sent (after a pause, out of quiet hours); null while check-ins are off'
  ),
  paused_until: isoDateOrNull.description('The end of a pause running now, or null'),
  checks_on: Joi.boolean().description('Whether scheduled check-ins are on (probe_settings.active)')
}

export const userStatusSchema = Joi.object(userStatusFields).label('UserStatus')

export const userStatusWithUserSchema = Joi.object({
  user: Joi.object({
    id: Joi.number().integer(),
    first_name: Joi.string(),
    last_name: Joi.string(),
    phone_number: Joi.string()
  }).label('StatusUser'),
  ...userStatusFields
}).label('UserStatusWithUser')
