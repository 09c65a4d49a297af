/*
 * The plugin's name, and its event and jobs, declared into Kronus's type maps so that
 * they are type-checked wherever they are used.
 */

export const PLUGIN_NAME = 'outbound-webhook'
export const DELIVER_JOB = 'outbound-webhook.deliver'
export const PRUNE_JOB = 'outbound-webhook.prune-deliveries'
export const ENDPOINT_DISABLED = 'outbound-webhook.endpoint_disabled'
/** The counter of delivery attempts on GET /metrics, by outcome (see DeliveryOutcome). */
export const DELIVERIES_METRIC = 'kronus_webhook_deliveries_total'
/** Durable subscriber that turns each event into one delivery job per endpoint. */
export const FAN_OUT_SUBSCRIBER = 'fan-out'

declare module 'kronus' {
  interface KronusEvents {
    /** Kronus turned a webhook endpoint off: it answered 410, or every attempt failed for days. userId is null for a configured endpoint. */
    'outbound-webhook.endpoint_disabled': { userId: number | null; endpointId: number; url: string; reason: string }
  }
  interface KronusJobs {
    /** One event to one endpoint; `trigger` tells an API redelivery from the original. */
    'outbound-webhook.deliver': { endpointId: number; eventId: number; trigger: 'event' | 'redelivery' }
    'outbound-webhook.prune-deliveries': Record<string, never>
  }
}
