import twilio from 'twilio'
import { emergencyContact } from '../../../plugins/emergency-contact/index.js'
import { smsCommands } from '../../../plugins/sms-commands/index.js'
import { type TwilioSmsOptions, twilioSms } from '../../../plugins/twilio-sms/index.js'
import { FakeClock } from '../../../src/clock.js'
import type { KronusConfigInput } from '../../../src/config/types.js'
import type { KronusPlugin } from '../../../src/plugins/types.js'
import { FakeTwilioApi } from '../../fakes/twilio-api.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'

/*
 * A Kronus with the three SMS plugins whose texts go, through the real twilio SDK, to a
 * loopback fake of Twilio's Messages API; and Twilio's side of the webhook: form posts
 * signed with the twilio package's own helper.
 */

export const ACCOUNT_SID = 'AC' + '1'.repeat(32)
export const AUTH_TOKEN = 'sms-loop-auth-token'
export const SERVICE_SID = 'MG' + 'a'.repeat(32)
/** The Kronus number people text. */
export const KRONUS_NUMBER = '+15550009999'
export const PUBLIC_URL = 'https://kronus.example'
/** What Twilio signs: the webhook URL configured on the Messaging Service. */
export const SIGNED_URL = 'https://kronus.example/webhook/sms'

interface Tap {
  teardown(fn: () => unknown): void
}

export interface SmsKronus {
  kronus: TestKronus
  fake: FakeTwilioApi
}

export interface SmsKronusOptions {
  publicUrl?: string
  dev?: boolean
  twilio?: Partial<TwilioSmsOptions>
  /** The configuration's twilio keys; all three are set when omitted. */
  twilioConfig?: KronusConfigInput['twilio']
  /** Replaces the three SMS plugins. */
  plugins?: KronusPlugin<any>[]
  config?: KronusConfigInput
}

export async function buildSmsKronus(t: Tap, options: SmsKronusOptions = {}): Promise<SmsKronus> {
  const clock = new FakeClock()
  let built: TestKronus | undefined
  const fake = await FakeTwilioApi.start({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    now: () => clock.now(),
    // Twilio's webhooks (status callbacks, Gather) reach this Kronus through server.inject.
    webhooks: (request) => {
      if (!built) throw new Error('the fake Twilio posted a webhook before Kronus was built')
      return injectWebhook(built, request)
    }
  })
  t.teardown(() => fake.close())
  const { client } = fake.client()
  const plugins = options.plugins ?? [
    // A high rate: pacing has its own tests, and a frozen FakeClock never refills the bucket.
    twilioSms({ client, messagesPerSecond: 1000, burst: 1000, callsPerSecond: 100, ...options.twilio }),
    smsCommands(),
    emergencyContact()
  ]
  const kronus = await buildKronus(t, {
    clock,
    config: {
      ...options.config,
      ...(options.dev ? { dev: true } : {}),
      kronus: { publicUrl: options.publicUrl ?? PUBLIC_URL },
      twilio: options.twilioConfig ?? {
        accountSid: ACCOUNT_SID,
        authToken: AUTH_TOKEN,
        messagingServiceSid: SERVICE_SID
      },
      // One job at a time, so texts reach the fake in the order they were queued.
      jobs: { concurrency: 1, ...options.config?.jobs },
      // These runs span days of the fake clock; token lifetimes have their own tests (test/http/auth.test.ts).
      auth: { accessTokenTtlMinutes: 30 * 24 * 60, ...options.config?.auth },
      plugins
    } as KronusConfigInput
  })
  built = kronus
  return { kronus, fake }
}

/** A webhook the fake Twilio posts to publicUrl, served by this Kronus through server.inject. */
export async function injectWebhook(
  kronus: TestKronus,
  request: { url: string; form: Record<string, string>; headers: Record<string, string> }
): Promise<{ status: number; body: string }> {
  const target = new URL(request.url)
  const base = new URL(kronus.config.kronus.publicUrl)
  if (target.origin !== base.origin) throw new Error(`the fake Twilio posted to ${request.url}, not to this Kronus`)
  const prefix = base.pathname.replace(/\/+$/, '')
  const res = await kronus.server.inject({
    method: 'POST',
    url: target.pathname.slice(prefix.length) + target.search,
    payload: new URLSearchParams(request.form).toString(),
    headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]))
  })
  return { status: res.statusCode, body: res.payload }
}

export interface InboundSms {
  from: string
  body: string
  messageSid?: string
  /** Sign with this token instead of the right one. */
  authToken?: string
  /** Sign this URL instead of SIGNED_URL. */
  signedUrl?: string
  /** Send this header instead of a signature; null sends none. */
  signature?: string | null
  /** Fields Twilio would add, or overrides. */
  extra?: Record<string, string>
}

export interface WebhookReply {
  statusCode: number
  contentType: string | undefined
  payload: string
  /** The texts of the TwiML <Message> elements, unescaped. */
  messages: string[]
}

let sequence = 0

export function nextMessageSid(): string {
  sequence += 1
  return 'SM' + sequence.toString(16).padStart(32, '0')
}

/** The fields Twilio posts for an inbound SMS. */
export function inboundForm(sms: Pick<InboundSms, 'from' | 'body' | 'messageSid' | 'extra'>): Record<string, string> {
  return {
    ToCountry: 'US',
    SmsMessageSid: sms.messageSid ?? '',
    NumMedia: '0',
    SmsSid: sms.messageSid ?? '',
    SmsStatus: 'received',
    Body: sms.body,
    To: KRONUS_NUMBER,
    NumSegments: '1',
    MessageSid: sms.messageSid ?? '',
    AccountSid: ACCOUNT_SID,
    MessagingServiceSid: SERVICE_SID,
    From: sms.from,
    ApiVersion: '2010-04-01',
    ...sms.extra
  }
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

/** Posts an inbound SMS to /webhook/sms as Twilio does, signed with twilio's own helper. */
export async function postSms(kronus: TestKronus, sms: InboundSms): Promise<WebhookReply> {
  const form = inboundForm({ ...sms, messageSid: sms.messageSid ?? nextMessageSid() })
  const signature =
    sms.signature === undefined
      ? twilio.getExpectedTwilioSignature(sms.authToken ?? AUTH_TOKEN, sms.signedUrl ?? SIGNED_URL, form)
      : sms.signature
  const res = await kronus.server.inject({
    method: 'POST',
    url: '/webhook/sms',
    payload: new URLSearchParams(form).toString(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature })
    }
  })
  const messages = [...res.payload.matchAll(/<Message>([\s\S]*?)<\/Message>/g)].map((m) => unescapeXml(m[1]!))
  return {
    statusCode: res.statusCode,
    contentType: res.headers['content-type'] as string | undefined,
    payload: res.payload,
    messages
  }
}

/** Texts the fake Twilio accepted for one number, oldest first. */
export function textsTo(fake: FakeTwilioApi, phone: string): string[] {
  return fake.messages.filter((m) => m.to === phone).map((m) => m.body)
}
