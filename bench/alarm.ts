import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { outboundWebhook } from '../plugins/outbound-webhook/index.js'
import { TwilioSmsTransport } from '../plugins/twilio-sms/transport.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { type ResultRow, row } from './lib/result.js'
import { seedUsers } from './lib/seed.js'

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

/** Emergency contacts of the seeded users are +1666..., every other number +1555.... */
const CONTACT_PREFIX = '+1666'
const BACKLOG_FIRST_USER = 1_000_000

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
 * The trigger is a person texting SOS, taken as the SMS webhook takes it
 * (`messaging.receive`): the alarm engine raises a panic alarm in that transaction and
 * queues the alert to the person's one emergency contact; the stopwatch stops when Twilio
 * is asked to text that contact. Each alarm is another person's (users 1..alarms, seeded
 * with one emergency contact each, +1666...); the backlog's check-in texts are for users
 * numbered from BACKLOG_FIRST_USER, so they never share a user with an alarm.
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
          if (message.to.startsWith(CONTACT_PREFIX)) alertsAt.set(message.to, Date.now())
          else checkInsSent += 1
          return { sid: `SM${++sid}` }
        },
        list: async () => []
      }
    }
  })
  kronus.messaging.registerChannel(transport, { default: true })

  try {
    await seedUsers(kronus.knex, { users: params.alarms, nextFireAt: Date.now() + 86_400_000, cron: '0 9 * * *' })
    // The backlog: check-in texts of `checkIns` users, and webhook deliveries in as many lanes.
    await kronus.messaging.sendMany(
      Array.from({ length: params.checkIns }, (_, n) => ({
        to: `+1555${String(n).padStart(7, '0')}`,
        text: 'Are you OK? Reply Y or N.',
        userId: BACKLOG_FIRST_USER + n
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
      const person = `+1555${String(a + 1).padStart(7, '0')}`
      const contact = `${CONTACT_PREFIX}${String(a + 1).padStart(7, '0')}`
      const triggeredAt = Date.now()
      await kronus.messaging.receive({ from: person, text: 'SOS', channel: 'twilio', messageId: `SMbench${a}` })
      while (!alertsAt.has(contact) && Date.now() - triggeredAt < 60_000) await sleep(5)
      const at = alertsAt.get(contact)
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
