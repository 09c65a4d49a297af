/*
 * The plugin's two tables as the database returns them, and as the API shows them.
 * Secrets never appear in the shown form.
 */

export interface EndpointRow {
  id: number
  user_id: number | null
  config_key: string | null
  url: string
  events: string
  description: string
  active: boolean | number
  disabled_reason: string | null
  disabled_at: number | string | null
  secret: string | null
  previous_secret: string | null
  previous_secret_expires_at: number | string | null
  failing_since: number | string | null
  created_at: number | string
  updated_at: number | string
}

export interface DeliveryRow {
  id: number | string
  endpoint_id: number
  event_id: number | string
  event_type: string
  message_id: string
  trigger: 'event' | 'redelivery'
  attempt: number
  succeeded: boolean | number
  status_code: number | null
  latency_ms: number
  response_body: string
  error: string | null
  created_at: number | string
}

export interface EndpointView {
  id: number
  user_id: number | null
  url: string
  events: string[]
  description: string
  active: boolean
  disabled_reason: string | null
  disabled_at: string | null
  created_at: string
  updated_at: string
}

export interface DeliveryView {
  id: number
  endpoint_id: number
  event_id: number
  event_type: string
  message_id: string
  trigger: 'event' | 'redelivery'
  attempt: number
  succeeded: boolean
  status_code: number | null
  latency_ms: number
  response_body: string
  error: string | null
  created_at: string
}

function iso(ms: number | string): string {
  return new Date(Number(ms)).toISOString()
}

export function endpointView(row: EndpointRow): EndpointView {
  return {
    id: Number(row.id),
    user_id: row.user_id === null ? null : Number(row.user_id),
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    active: Boolean(row.active),
    disabled_reason: row.disabled_reason,
    disabled_at: row.disabled_at === null ? null : iso(row.disabled_at),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at)
  }
}

export function deliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: Number(row.id),
    endpoint_id: Number(row.endpoint_id),
    event_id: Number(row.event_id),
    event_type: row.event_type,
    message_id: row.message_id,
    trigger: row.trigger,
    attempt: Number(row.attempt),
    succeeded: Boolean(row.succeeded),
    status_code: row.status_code === null ? null : Number(row.status_code),
    latency_ms: Number(row.latency_ms),
    response_body: row.response_body,
    error: row.error,
    created_at: iso(row.created_at)
  }
}
