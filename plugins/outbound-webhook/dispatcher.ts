import Boom from '@hapi/boom'
import type { Knex } from 'knex'
import type { JobRun, MetricCounter, PluginContext, RecordedEvent } from 'kronus'
import type { DeliveryLog } from './delivery-log.js'
import type { WebhookEndpoints } from './endpoints.js'
import type { WebhookEventType } from './event-schemas.js'
import type { HttpSender } from './http-sender.js'
import { DELIVER_JOB, ENDPOINT_DISABLED } from './names.js'
import type { ResolvedOptions } from './options.js'
import type { EndpointRow } from './rows.js'
import { signatureHeader } from './signing.js'

export interface DispatcherDeps {
  kronus: Pick<PluginContext, 'db' | 'clock' | 'events' | 'jobs' | 'logger'>
  endpoints: WebhookEndpoints
  log: DeliveryLog
  sender: HttpSender
  options: ResolvedOptions
  version: string
  /** kronus_webhook_deliveries_total: every attempt, by outcome. */
  attempts: MetricCounter<'outcome'>
}

/**
 * What became of one delivery attempt: delivered (a 2xx), rejected (the endpoint
 * answered, with another status), unreachable (no answer: refused address, DNS,
 * connection, timeout).
 */
export type DeliveryOutcome = 'delivered' | 'rejected' | 'unreachable'

type Trigger = 'event' | 'redelivery'

/** Thrown so the queue retries the delivery with its backoff. */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError'
}

/** The webhook-id of an event: the same on every attempt, so receivers can drop duplicates. */
export function messageIdOf(eventId: number): string {
  return `msg_${eventId}`
}

/**
 * Turns events into signed HTTP deliveries. Each event becomes one job per matching
 * endpoint, in a lane per endpoint and user, so one user's events reach an endpoint in
 * the order they happened while a failing endpoint holds back nobody else.
 */
export class Dispatcher {
  readonly #deps: DispatcherDeps

  constructor(deps: DispatcherDeps) {
    this.#deps = deps
  }

  /** The durable subscription's handler: all the event's delivery jobs, in one transaction. */
  async fanOut(event: RecordedEvent<WebhookEventType>): Promise<void> {
    const { kronus, endpoints } = this.#deps
    const targets = await endpoints.matching(event)
    if (targets.length === 0) return
    await kronus.db.transaction(async (trx) => {
      for (const endpoint of targets) await this.#enqueue(endpoint, event.id, event.userId, 'event', trx)
    })
  }

  /** Sends an event that an endpoint has already been sent (or tried) again, through the same lane. */
  async redeliver(endpoint: EndpointRow, eventId: number): Promise<{ queued: boolean }> {
    if (!endpoint.active) throw Boom.conflict('the webhook is not active; set active to true first')
    const event = await this.#event(eventId)
    if (!event) throw Boom.notFound('the event of this delivery no longer exists')
    return { queued: await this.#enqueue(endpoint, eventId, event.userId, 'redelivery') }
  }

  async #event(eventId: number): Promise<RecordedEvent | undefined> {
    const [event] = await this.#deps.kronus.events.list({ after: eventId - 1, limit: 1 })
    return event?.id === eventId ? event : undefined
  }

  async #enqueue(
    endpoint: EndpointRow,
    eventId: number,
    userId: number | null,
    trigger: Trigger,
    trx?: Knex.Transaction
  ): Promise<boolean> {
    const endpointId = Number(endpoint.id)
    const job = await this.#deps.kronus.jobs.enqueue(
      DELIVER_JOB,
      { endpointId, eventId, trigger },
      {
        lane: `webhook:${endpointId}:${userId ?? 'global'}`,
        // At least once upstream: a repeated fan-out while this delivery waits adds nothing.
        key: `webhook:${endpointId}:${eventId}:${trigger}`,
        maxAttempts: this.#deps.options.maxAttempts,
        // A user's own endpoint goes with the user; a configured one still gets the events.
        userId: endpoint.user_id === null ? undefined : Number(endpoint.user_id)
      },
      trx
    )
    return job !== null
  }

  /** The delivery job: one attempt, logged; throws to be retried. */
  async deliver(payload: { endpointId: number; eventId: number; trigger: Trigger }, run: JobRun): Promise<void> {
    const { kronus, endpoints, log, sender } = this.#deps
    const endpoint = await endpoints.find(payload.endpointId)
    if (!endpoint?.active) return // deleted or turned off since: nothing to deliver to
    const secrets = endpoints.signingSecrets(endpoint)
    if (secrets.length === 0) return // a configured endpoint whose configuration is gone
    const event = await this.#event(payload.eventId)
    if (!event) {
      kronus.logger.warn({ eventId: payload.eventId }, 'event to deliver no longer exists')
      return
    }

    const messageId = messageIdOf(event.id)
    const body = JSON.stringify({
      type: event.type,
      timestamp: new Date(event.createdAt).toISOString(),
      data: event.payload
    })
    const timestamp = Math.floor(kronus.clock.now() / 1000)
    const attempt = await sender.send(
      {
        url: endpoint.url,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': `Kronus-Webhooks/${this.#deps.version}`,
          'webhook-id': messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader({ id: messageId, timestamp, body }, secrets)
        }
      },
      run.signal
    )

    const now = kronus.clock.now()
    const succeeded = attempt.statusCode !== null && attempt.statusCode >= 200 && attempt.statusCode < 300
    const outcome: DeliveryOutcome = succeeded ? 'delivered' : attempt.statusCode === null ? 'unreachable' : 'rejected'
    this.#deps.attempts.inc({ outcome })
    const endpointId = Number(endpoint.id)
    const disabledFor = await kronus.db.transaction(async (trx) => {
      await log.record(trx, {
        endpoint_id: endpointId,
        event_id: event.id,
        event_type: event.type,
        message_id: messageId,
        trigger: payload.trigger,
        attempt: run.attempt,
        succeeded,
        status_code: attempt.statusCode,
        latency_ms: attempt.latencyMs,
        response_body: attempt.responseBody,
        error: attempt.error,
        created_at: now
      })
      if (succeeded) {
        await endpoints.markSucceeded(trx, endpointId)
        return null
      }
      const reason = await this.#disablingReason(trx, endpointId, attempt.statusCode, now)
      if (reason && (await endpoints.disable(trx, endpointId, reason, now))) {
        await kronus.events.record(trx, ENDPOINT_DISABLED, {
          userId: endpoint.user_id === null ? null : Number(endpoint.user_id),
          endpointId,
          url: endpoint.url,
          reason
        })
      }
      return reason
    })

    if (succeeded) return
    if (disabledFor) {
      kronus.logger.warn({ endpointId, url: endpoint.url, reason: disabledFor }, 'webhook endpoint disabled')
      return
    }
    throw new DeliveryFailedError(
      attempt.statusCode === null ? String(attempt.error) : `the endpoint answered ${attempt.statusCode}`
    )
  }

  async #disablingReason(
    trx: Knex.Transaction,
    endpointId: number,
    statusCode: number | null,
    now: number
  ): Promise<string | null> {
    // Gone is the receiver's way of saying "stop": no retry, no further deliveries.
    if (statusCode === 410) return 'the endpoint answered 410 Gone'
    const failingSince = await this.#deps.endpoints.markFailed(trx, endpointId, now)
    const limitMs = this.#deps.options.disableAfterFailingHours * 3600_000
    if (now - failingSince >= limitMs) {
      return `every attempt failed for ${this.#deps.options.disableAfterFailingHours} hours (since ${new Date(failingSince).toISOString()})`
    }
    return null
  }
}
