import { readFileSync } from 'node:fs'
import t from 'tap'
import {
  type JsonSchema,
  WEBHOOK_EVENT_SCHEMAS,
  WEBHOOK_EVENT_TYPES
} from '../../../plugins/outbound-webhook/event-schemas.js'
import { buildWebhookKronus, createWebhook, twoUsers } from './harness.js'
import { startReceiver } from './receiver.js'

/** Checks a value against the subset of JSON Schema that the webhook schemas use; returns the problems. */
function violations(schema: JsonSchema, value: unknown, path = '$'): string[] {
  const problems: string[] = []
  const types = schema.type === undefined ? [] : [schema.type].flat()
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v
  if (types.length > 0 && !types.some((ty) => ty === typeOf(value) || (ty === 'number' && typeof value === 'number'))) {
    return [`${path} is ${typeOf(value)}, not ${types.join(' or ')}`]
  }
  if ('const' in schema && value !== schema.const) problems.push(`${path} is not ${String(schema.const)}`)
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    problems.push(`${path} is not one of ${schema.enum.join(', ')}`)
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum)
    problems.push(`${path} is below ${schema.minimum}`)
  if (schema.format === 'date-time' && (typeof value !== 'string' || Number.isNaN(Date.parse(value))))
    problems.push(`${path} is not a date-time`)
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>
    for (const key of (schema.required as string[] | undefined) ?? [])
      if (!(key in object)) problems.push(`${path}.${key} is missing`)
    for (const [key, inner] of Object.entries((schema.properties as Record<string, JsonSchema> | undefined) ?? {})) {
      if (key in object) problems.push(...violations(inner, object[key], `${path}.${key}`))
    }
  }
  return problems
}

t.test('the required event types have schemas', async (t) => {
  for (const type of ['probe.status_changed', 'user.aliveness_changed', 'emergency.triggered'])
    t.ok(WEBHOOK_EVENT_TYPES.includes(type as never), type)
})

t.test('docs/WEBHOOKS.md shows exactly the schemas the code serves', async (t) => {
  const docs = readFileSync(new URL('../../../docs/WEBHOOKS.md', import.meta.url), 'utf8')
  const blocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as JsonSchema)
  const documented = Object.fromEntries(blocks.filter((b) => b.$schema).map((b) => [b.title, b]))
  t.same(documented, WEBHOOK_EVENT_SCHEMAS)
})

t.test('the schema check used below rejects bodies that break a schema', async (t) => {
  const schema = WEBHOOK_EVENT_SCHEMAS['emergency.triggered']
  const good = {
    type: 'emergency.triggered',
    timestamp: '2026-01-05T12:00:00.000Z',
    data: { userId: 1, probeId: 2, status: 'bad' }
  }
  t.same(violations(schema, good), [])
  t.same(violations(schema, { ...good, type: 'user.created' }), ['$.type is not emergency.triggered'])
  t.same(violations(schema, { ...good, data: { userId: 1, status: 'good' } }), [
    '$.data.probeId is missing',
    '$.data.status is not one of bad, unavailable'
  ])
  t.same(violations(schema, { ...good, timestamp: 'yesterday' }), ['$.timestamp is not a date-time'])
})

t.test('the alarm, receipt and call events have schemas', async (t) => {
  for (const type of [
    'alarm.raised',
    'alarm.escalated',
    'alarm.acknowledged',
    'alarm.resolved',
    'message.delivered',
    'message.undelivered',
    'call.placed',
    'call.failed',
    'call.answered'
  ])
    t.ok(WEBHOOK_EVENT_TYPES.includes(type as never), type)
})

t.test('the bodies Kronus delivers match their schemas', async (t) => {
  const receiver = await startReceiver(t)
  const kronus = await buildWebhookKronus(t, {
    allowPrivateNetworks: true,
    // A configured endpoint also gets events that name no user (call.answered).
    endpoints: [
      {
        url: `${receiver.origin}/ops`,
        secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        events: [...WEBHOOK_EVENT_TYPES]
      }
    ]
  })
  const { user } = await twoUsers(kronus)
  await createWebhook(kronus, user, { url: `${receiver.origin}/all`, events: WEBHOOK_EVENT_TYPES })

  const userId = user.id
  await kronus.events.emit('probe.started', {
    userId,
    probeId: 1,
    origin: 'on_demand',
    maxRetries: 2,
    waitTimeInMinutes: 5
  })
  await kronus.events.emit('probe.follow_up_sent', { userId, probeId: 1, retryCount: 1 })
  await kronus.events.emit('probe.status_changed', {
    userId,
    probeId: 1,
    from: 'pending',
    to: 'unavailable',
    reason: 'no answer'
  })
  await kronus.events.emit('user.aliveness_changed', { userId, from: 'good', to: 'unavailable', probeId: 1 })
  await kronus.events.emit('emergency.triggered', { userId, probeId: 1, status: 'unavailable' })
  await kronus.events.emit('probe_settings.updated', {
    userId,
    active: false,
    cronExpression: '0 18 * * *',
    nextFireAt: null
  })
  await kronus.events.emit('checkin_link.created', { userId, rotated: false })
  await kronus.events.emit('checkin.proof_of_life', { userId, at: Date.parse('2026-01-05T17:30:00Z') })
  await kronus.events.emit('probe_settings.paused', { userId, pausedUntil: Date.UTC(2026, 0, 20), contactsTold: true })
  await kronus.events.emit('probe_settings.resumed', { userId, reason: 'resumed' })
  await kronus.events.emit('alarm.raised', {
    alarmId: 7,
    userId,
    trigger: 'distress',
    quote: 'I fell',
    code: '42',
    probeId: 1,
    contactIds: [3, 4]
  })
  await kronus.events.emit('alarm.escalated', { alarmId: 7, userId, action: 'reminder', step: 1, contactIds: [3, 4] })
  await kronus.events.emit('alarm.acknowledged', { alarmId: 7, userId, contactId: 3, name: 'Ann Lee', via: 'sms' })
  await kronus.events.emit('alarm.resolved', { alarmId: 7, userId, reason: 'user_ok', by: 'Bob Smith' })
  await kronus.events.emit('message.delivered', {
    to: '+15550000003',
    userId,
    channel: 'twilio',
    messageId: 'SM1',
    ref: 'alarm-contact:3'
  })
  await kronus.events.emit('message.undelivered', {
    to: '+15550000004',
    userId,
    channel: 'twilio',
    messageId: 'SM2',
    ref: 'alarm-contact:4',
    status: 'undelivered',
    errorCode: 30006,
    error: 'landline or unreachable carrier'
  })
  await kronus.events.emit('call.placed', {
    to: '+15550000004',
    userId,
    channel: 'twilio',
    callId: 'CA1',
    ref: 'alarm-contact:4'
  })
  await kronus.events.emit('call.failed', {
    to: '+15550000004',
    userId,
    channel: 'twilio',
    ref: 'alarm-contact:4',
    error: 'busy',
    permanent: false
  })
  await kronus.events.emit('call.answered', {
    to: '+15550000004',
    channel: 'twilio',
    callId: 'CA1',
    ref: 'alarm-contact:4',
    digits: '1'
  })
  await kronus.events.emit('limit.reached', { limit: 'texts_per_user_per_day', userId, max: 30, refused: true })
  const since = kronus.clock.now()
  await kronus.events.emit('kronus.degraded', { condition: 'queue_behind', reason: 'the job queue is stuck', since })
  await kronus.events.emit('kronus.recovered', {
    condition: 'queue_behind',
    reason: 'the job queue is stuck',
    since,
    durationMs: 120_000
  })
  await kronus.queue.drain()

  const typesAt = (path: string) =>
    receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body).type as string)
  t.same(
    typesAt('/all'),
    WEBHOOK_EVENT_TYPES.filter((type) => type !== 'call.answered' && !type.startsWith('kronus.')),
    "one delivery per type to the user's webhook, in order (call.answered and the watchdog's events name no user)"
  )
  t.same(typesAt('/ops').sort(), [...WEBHOOK_EVENT_TYPES].sort(), 'every type to the configured endpoint')
  for (const request of receiver.requests) {
    const body = JSON.parse(request.body)
    t.same(violations(WEBHOOK_EVENT_SCHEMAS[body.type as keyof typeof WEBHOOK_EVENT_SCHEMAS], body), [], body.type)
  }
})
