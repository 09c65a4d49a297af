import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { outboundWebhook } from '../plugins/outbound-webhook/index.js'
import { TwilioSmsTransport } from '../plugins/twilio-sms/transport.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { type ResultRow, row } from './lib/result.js'

export interface AlarmParams {
  /** Check-in texts queued before the alarms. */
  checkIns: number
  /** Outbound webhook deliveries queued before the alarms, to an endpoint that never answers. */
  webhooks: number
  /** Alarms raised one after the other, each timed. */
  alarms: number
}

/** The issue's target: an alarm's first alert text within 5 s, whatever else is queued. */
export const ALARM_TARGET_SECONDS = 5

const ALERT_PREFIX = 'ALERT '

/** An HTTP endpoint that reads each request and never answers: every delivery runs into its timeout. */
async function silentEndpoint(): Promise<{ url: string; server: Server; requests: () => number }> {
  let requests = 0
  const server = createServer((req) => {
    requests += 1
    req.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, server, requests: () => requests }
}

/**
 * The time from an alarm's trigger to its first alert text reaching Twilio, with
 * `checkIns` check-in texts and `webhooks` webhook deliveries queued ahead of it. Kronus
 * runs as in production (kronus.start(), the default job settings, system clock), its
 * texts going through the real Twilio transport at its default pace (1 text a second, a
 * long code's limit) to an in-process fake of Twilio's API, and its webhooks to an endpoint
 * that never answers (each delivery runs into its 10 s timeout). The stopwatch runs from the
 * trigger until Twilio is asked to send the alert.
 *
 * The trigger: until the alarm engine lands, an alarm's first step is what the engine will
 * do, `messaging.send({ ..., priority: 'emergency' })` in the transaction that raises it;
 * this times that and everything after it (claim, pacing, the request to Twilio).
 */
export async function alarmCase(spec: BenchDatabaseSpec, params: AlarmParams): Promise<ResultRow[]> {
  const endpoint = await silentEndpoint()
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
  const { kronus } = await buildBenchKronus(
    spec,
    {},
    {
      plugins: [
        outboundWebhook({
          allowPrivateNetworks: true,
          endpoints: [{ url: endpoint.url, secret, events: ['user.aliveness_changed'] }]
        })
      ]
    }
  )
  const alertsAt = new Map<string, number>()
  let checkInsSent = 0
  let sid = 0
  const transport = new TwilioSmsTransport({
    accountSid: 'ACbench',
    authToken: 'bench',
    messagingServiceSid: 'MGbench',
    client: {
      messages: {
        create: async (message) => {
          if (message.body.startsWith(ALERT_PREFIX)) alertsAt.set(message.body, Date.now())
          else checkInsSent += 1
          return { sid: `SM${++sid}` }
        },
        list: async () => []
      }
    }
  })
  kronus.messaging.registerChannel(transport, { default: true })

  try {
    // The backlog: check-in texts of `checkIns` users, and webhook deliveries in as many lanes.
    await kronus.messaging.sendMany(
      Array.from({ length: params.checkIns }, (_, n) => ({
        to: `+1555${String(n).padStart(7, '0')}`,
        text: 'Are you OK? Reply Y or N.',
        userId: n + 1
      }))
    )
    await kronus.events.emit('user.aliveness_changed', { userId: 1, from: 'unknown', to: 'good', probeId: 1 })
    const [event] = await kronus.events.list({ type: 'user.aliveness_changed', limit: 1 })
    const { id: endpointId } = await kronus.knex('webhook_endpoints').first('id')
    await kronus.queue.enqueueMany(
      'outbound-webhook.deliver',
      Array.from({ length: params.webhooks }, (_, n) => ({
        payload: { endpointId: Number(endpointId), eventId: event!.id, trigger: 'event' as const },
        options: { lane: `webhook:${endpointId}:${n + 1}` }
      }))
    )

    await kronus.start()
    // Let the workers get busy: batches of check-in texts waiting on the pacer, deliveries hanging.
    await sleep(3000)

    const seconds: number[] = []
    for (let a = 0; a < params.alarms; a++) {
      const text = `${ALERT_PREFIX}${a}: Bob needs help. Reply OK ${a} if you will check on Bob.`
      const triggeredAt = Date.now()
      await kronus.knex.transaction((trx) =>
        kronus.messaging.send({ to: '+15559990000', text, userId: 900_000 + a, priority: 'emergency' }, trx)
      )
      while (!alertsAt.has(text) && Date.now() - triggeredAt < 60_000) await sleep(5)
      const at = alertsAt.get(text)
      seconds.push(at === undefined ? Number.POSITIVE_INFINITY : (at - triggeredAt) / 1000)
      await sleep(2000)
    }
    const waitingDeliveries = await kronus
      .knex('jobs')
      .where({ name: 'outbound-webhook.deliver' })
      .whereIn('status', ['scheduled', 'enqueued', 'in-progress'])
      .count({ n: '*' })
    const worst = Math.max(...seconds)
    const sorted = [...seconds].sort((x, y) => x - y)
    return [
      row({
        bench: 'alarm',
        subject: `trigger → first alert text, ${params.checkIns / 1000}k check-in texts and ${params.webhooks / 1000}k webhook deliveries queued (worst of ${params.alarms})`,
        db: spec.kind,
        value: worst,
        unit: 's',
        limit: ALARM_TARGET_SECONDS,
        limitLabel: `${ALARM_TARGET_SECONDS} s target`,
        lowerIsBetter: true,
        detail: `each: ${seconds.map((s) => `${s.toFixed(2)} s`).join(', ')} (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s); Twilio paced at 1 text/s: ${checkInsSent} check-in texts sent meanwhile; ${endpoint.requests()} webhook requests left hanging, ${waitingDeliveries[0]!.n} deliveries still waiting`
      })
    ]
  } finally {
    await kronus.stop('benchmark finished')
    endpoint.server.closeAllConnections()
    endpoint.server.close()
  }
}
