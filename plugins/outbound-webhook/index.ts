/**
 * outbound-webhook: signed, retried, logged webhooks of aliveness changes, following the
 * Standard Webhooks specification. See docs/WEBHOOKS.md.
 *
 * In kronus.config.ts:
 *
 *   import { outboundWebhook } from './plugins/outbound-webhook/index.js'
 *   plugins: [outboundWebhook({
 *     endpoints: [{ url: 'https://ops.example.com/kronus', secret: process.env.OPS_WEBHOOK_SECRET!, events: ['emergency.triggered'] }]
 *   })]
 */
import { definePlugin } from 'kronus'
import { DELIVERIES_TABLE, DeliveryLog } from './delivery-log.js'
import { refusedDestination } from './destination.js'
import { Dispatcher } from './dispatcher.js'
import { ENDPOINTS_TABLE, WebhookEndpoints } from './endpoints.js'
import { WEBHOOK_EVENT_TYPES } from './event-schemas.js'
import { HttpSender } from './http-sender.js'
import { webhookTables } from './migrations/0001_webhook_tables.js'
import {
  DELIVER_JOB,
  DELIVERIES_METRIC,
  ENDPOINT_DISABLED,
  FAN_OUT_SUBSCRIBER,
  PLUGIN_NAME,
  PRUNE_JOB
} from './names.js'
import { type OutboundWebhookOptions, optionsSchema, type ResolvedOptions } from './options.js'
import { pluginRoutes, publicRoutes } from './routes/index.js'
import { systemResolver } from './ssrf-guard.js'

export { WEBHOOK_EVENT_SCHEMAS, WEBHOOK_EVENT_TYPES } from './event-schemas.js'
export type { ConfiguredEndpoint, OutboundWebhookOptions } from './options.js'

const VERSION = '1.0.0'
/** Room beyond the HTTP timeout for logging the attempt, so the queue never cuts that short. */
const JOB_TIMEOUT_MARGIN_MS = 30_000

export const outboundWebhook = definePlugin<OutboundWebhookOptions>({
  name: PLUGIN_NAME,
  version: VERSION,
  options: optionsSchema,
  events: [ENDPOINT_DISABLED],
  migrations: [webhookTables],
  publicPaths: ['/v1/users/{uid}/webhooks'],
  tables: [ENDPOINTS_TABLE, DELIVERIES_TABLE],

  async register(kronus, input) {
    const options = input as ResolvedOptions
    // Dev mode talks to receivers on the developer's own machine.
    const allowPrivateNetworks = options.allowPrivateNetworks || kronus.config.dev
    const effective: ResolvedOptions = { ...options, allowPrivateNetworks }
    for (const endpoint of options.endpoints) {
      const refused = refusedDestination(endpoint.url, allowPrivateNetworks)
      if (refused) throw new Error(`endpoint ${endpoint.url} ${refused}`)
    }

    const endpoints = new WebhookEndpoints({ db: kronus.db, clock: kronus.clock, options: effective })
    const log = new DeliveryLog(kronus.db)
    const sender = new HttpSender({
      resolve: options.resolve ?? systemResolver,
      allowPrivateNetworks,
      timeoutMs: options.timeoutMs
    })
    const attempts = kronus.metrics.counter({
      name: DELIVERIES_METRIC,
      help: 'Webhook delivery attempts this instance made, by outcome (delivered: a 2xx; rejected: another status; unreachable: no answer, a refused address or a timeout).',
      labelNames: ['outcome']
    })
    const dispatcher = new Dispatcher({
      kronus,
      endpoints,
      log,
      sender,
      options: effective,
      version: VERSION,
      attempts
    })
    await endpoints.syncConfigured(options.endpoints)

    kronus.events.subscribe(FAN_OUT_SUBSCRIBER, WEBHOOK_EVENT_TYPES, (event) => dispatcher.fanOut(event), {
      wants: (events, trx) => endpoints.wanted(events, trx)
    })
    kronus.jobs.define(DELIVER_JOB, (payload, run) => dispatcher.deliver(payload, run), {
      maxAttempts: options.maxAttempts,
      timeoutMs: options.timeoutMs + JOB_TIMEOUT_MARGIN_MS,
      // Workers of their own: endpoints that answer slowly (or not at all, for timeoutMs)
      // never take the slots that send texts and alarms.
      ownConcurrency: options.concurrency
    })
    kronus.jobs.define(PRUNE_JOB, async () => {
      const deleted = await log.prune(kronus.clock.now() - options.deliveryLogRetentionDays * 24 * 3600_000)
      if (deleted > 0) kronus.logger.info({ deleted }, 'pruned old webhook delivery attempts')
    })
    await kronus.schedules.schedule(PRUNE_JOB, '40 3 * * *', {})

    const deps = { endpoints, log, dispatcher, maxAttempts: options.maxAttempts }
    kronus.server.routePublic(publicRoutes(deps))
    kronus.server.route(pluginRoutes(deps))

    return { stop: () => sender.close() }
  }
})
