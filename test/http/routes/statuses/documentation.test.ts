import t from 'tap'
import { outboundWebhook } from '../../../../plugins/outbound-webhook/index.js'
import { twilioSms } from '../../../../plugins/twilio-sms/index.js'
import { buildKronus } from '../../../helpers/app.js'

/* The web console's endpoints are in the API reference; the dev-mode ones only in dev mode. */

const CONSOLE_ROUTES = [
  ['get', '/v1/schedule/preview'],
  ['get', '/v1/users/{uid}/status'],
  ['get', '/v1/statuses'],
  ['get', '/plugins/outbound-webhook/deliveries']
] as const
const DEV_ROUTES = [
  ['get', '/dev/texts'],
  ['post', '/dev/sms']
] as const

async function spec(
  t: { teardown(fn: () => unknown): void; equal: (a: unknown, b: unknown) => void },
  dev: boolean
): Promise<any> {
  const kronus = await buildKronus(t, {
    documentation: true,
    config: {
      ...(dev ? { dev: true } : {}),
      twilio: { accountSid: `AC${'1'.repeat(32)}`, authToken: 'token', messagingServiceSid: `MG${'a'.repeat(32)}` },
      plugins: [twilioSms(), outboundWebhook()]
    } as never
  })
  const res = await kronus.server.inject('/swagger.json')
  t.equal(res.statusCode, 200)
  return JSON.parse(res.payload)
}

t.test('/swagger.json documents the console endpoints, and the dev ones in dev mode only', async (t) => {
  const dev = await spec(t, true)
  for (const [method, path] of [...CONSOLE_ROUTES, ...DEV_ROUTES])
    t.ok(dev.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented in dev mode`)
  for (const field of ['state', 'aliveness', 'last_checkin', 'waiting_checkin', 'open_alarm', 'next_checkin_at'])
    t.ok(dev.definitions.UserStatus.properties[field], `UserStatus.${field}`)
  t.ok(dev.definitions.SchedulePreview.properties.next, 'SchedulePreview.next')

  const production = await spec(t, false)
  for (const [method, path] of CONSOLE_ROUTES) t.ok(production.paths[path]?.[method], `${path} outside dev mode`)
  for (const [, path] of DEV_ROUTES) t.notOk(production.paths[path], `no ${path} outside dev mode`)
})
