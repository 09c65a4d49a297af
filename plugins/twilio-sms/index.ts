/**
 * twilio-sms: texts go out through a Twilio Messaging Service, and inbound texts come in
 * through Twilio's webhook at POST /webhook/sms. Carrier keywords (STOP, START) are
 * handled here; everything else a user texts goes on to Kronus's other inbound handlers.
 * Every text asks Twilio for its delivery receipt (POST /webhook/sms/status), and voice
 * calls go through Twilio's Calls API from the configured caller number, the key pressed
 * coming back to POST /webhook/voice/gather.
 */
import Joi from 'joi'
import { definePlugin, type PluginContext } from 'kronus'
import { registerSmsCommand } from './commands.js'
import { DEV_SMS_PATH, devSmsRoute } from './dev-sms.js'
import { INBOUND_MESSAGES, pruneHandled } from './handled-once.js'
import { keywordTexts, parseKeyword } from './keywords.js'
import { inboundMessagesTable } from './migrations/0001_inbound_messages.js'
import { twilioWebhookUrl } from './signature.js'
import { SMS_STATUS_PATH, statusCallbackRoute } from './status-callback.js'
import { MAX_VALIDITY_PERIOD_SECONDS, type TwilioMessagesClient, TwilioSmsTransport } from './transport.js'
import { gatherPath, VOICE_GATHER_PATH, VOICE_STATUS_PATH, voiceGatherRoute, voiceStatusRoute } from './voice.js'
import { SMS_WEBHOOK_PATH, smsWebhookRoute } from './webhook.js'

declare module 'kronus' {
  interface KronusEvents {
    /** The user texted an opt-out keyword: their probes were turned off. */
    'twilio-sms.opted_out': { userId: number; keyword: string; messageId: string | null }
    /** The user texted an opt-in keyword: Twilio lets texts through again; probes stay off. */
    'twilio-sms.opted_in': { userId: number; keyword: string; messageId: string | null }
  }
  interface KronusJobs {
    'twilio-sms.prune_inbound': { keepDays: number }
  }
}

export interface TwilioSmsOptions {
  /** Default: twilio.accountSid of the configuration (env TWILIO_ACCOUNT_SID). */
  accountSid?: string
  /** Default: twilio.authToken (env TWILIO_AUTH_TOKEN). Also checks webhook signatures. */
  authToken?: string
  /** Default: twilio.messagingServiceSid (env TWILIO_MESSAGING_SERVICE_SID). */
  messagingServiceSid?: string
  /**
   * The Twilio number voice calls come from (E.164). Default: twilio.callerNumber (env
   * TWILIO_CALLER_NUMBER). Without one, calls fail (call.failed) and alarms stay with texts.
   */
  callerNumber?: string
  /** Calls placed per second (Twilio's default limit is 1). Default 1. */
  callsPerSecond?: number
  /** Sends per second. Default 1, a long code's limit. */
  messagesPerSecond?: number
  /** Sends allowed back to back after a quiet spell. Default 1. */
  burst?: number
  /** Seconds Twilio may hold a text before dropping it, so a check-in never arrives hours late. Default 3600. */
  validityPeriodSeconds?: number
  /** Per-request timeout to Twilio's API. Default 15000 ms. */
  requestTimeoutMs?: number
  /** How long handled inbound MessageSids are kept to answer Twilio's retries. Default 30 days. */
  keepInboundDays?: number
  /** A twilio client to send through instead of one built from the credentials (tests). */
  client?: TwilioMessagesClient
}

/** The channel name texts are recorded under, in and out. */
export const TWILIO_CHANNEL = 'twilio'
/** The name status callbacks already handled are kept under (in inbound_messages, by MessageSid:status). */
export const TWILIO_STATUS_CHANNEL = 'twilio-status'

const twilioClient = Joi.any()
  .custom((value: unknown, helpers) => {
    const create = (value as TwilioMessagesClient | null)?.messages?.create
    return typeof create === 'function' ? value : helpers.error('any.invalid')
  }, 'twilio client')
  .messages({ 'any.invalid': '{{#label}} must be a twilio client (with messages.create)' })

const optionsSchema = Joi.object<TwilioSmsOptions>({
  accountSid: Joi.string(),
  authToken: Joi.string(),
  messagingServiceSid: Joi.string(),
  callerNumber: Joi.string()
    .pattern(/^\+[1-9]\d{6,14}$/)
    .messages({ 'string.pattern.base': '{{#label}} must be a phone number in E.164 form, e.g. +15551234567' }),
  callsPerSecond: Joi.number().positive().max(100).default(1),
  messagesPerSecond: Joi.number().positive().max(1000).default(1),
  burst: Joi.number().integer().min(1).max(1000).default(1),
  validityPeriodSeconds: Joi.number().integer().min(1).max(MAX_VALIDITY_PERIOD_SECONDS).default(3600),
  requestTimeoutMs: Joi.number().integer().min(1000).max(50_000).default(15_000),
  keepInboundDays: Joi.number().integer().min(1).max(3650).default(30),
  client: twilioClient
})

interface Credentials {
  accountSid: string | undefined
  authToken: string | undefined
  messagingServiceSid: string | undefined
}

/** Refuses to start a real server that could not send a single text, naming the key to set. */
function checkCredentials(
  creds: Credentials,
  hasClient: boolean
): asserts creds is Required<{ [K in keyof Credentials]: string }> {
  const missing = (
    [
      ['accountSid', 'TWILIO_ACCOUNT_SID'],
      ['authToken', 'TWILIO_AUTH_TOKEN'],
      ['messagingServiceSid', 'TWILIO_MESSAGING_SERVICE_SID']
    ] as const
  ).filter(([key]) => !creds[key])
  if (missing.length > 0) {
    throw new Error(
      `texts cannot be sent without ${missing.map(([key, env]) => `twilio.${key} (or ${env})`).join(', ')}`
    )
  }
  if (!hasClient && !creds.accountSid!.startsWith('AC')) {
    throw new Error('twilio.accountSid must start with "AC": copy the Account SID from the Twilio console')
  }
}

function registerKeywords(kronus: PluginContext): void {
  kronus.messaging.onInbound(async (message, trx) => {
    if (message.channel !== TWILIO_CHANNEL) return null
    const keyword = parseKeyword(message.text)
    if (!keyword) return null
    const { userId, messageId } = message
    if (keyword.kind === 'opt_in') {
      await kronus.users.setTextsOptedOut(userId, false, trx)
      await kronus.events.record(trx, 'twilio-sms.opted_in', { userId, keyword: keyword.word, messageId })
      return keywordTexts.optedIn()
    }
    // Twilio stops every text to this number now, so a probe would only ever end unanswered.
    // The alarm engine's handler ran first: the contacts are told Kronus cannot reach this
    // user, and an alarm already open stays open (turning check-ins off cancels no alarm).
    await kronus.probes.setActive(userId, false, trx)
    // Until START, `on` and `resume` by text answer "START first" and change nothing.
    await kronus.users.setTextsOptedOut(userId, true, trx)
    await kronus.events.record(trx, 'twilio-sms.opted_out', { userId, keyword: keyword.word, messageId })
    kronus.logger.info({ userId, keyword: keyword.word }, 'user opted out of texts; their probes are off')
    return keywordTexts.optedOut()
  })
}

/**
 * Whether Twilio could post to publicUrl at all: not when it names this machine
 * (localhost, loopback) or a private network address, as the default publicUrl does.
 */
export function twilioCanReach(publicUrl: string): boolean {
  let host: string
  try {
    host = new URL(twilioWebhookUrl(publicUrl, '/')).hostname.toLowerCase().replace(/^\[|\]$/g, '')
  } catch {
    return false
  }
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host === '0.0.0.0') return false
  if (host.includes(':')) return !(host === '::1' || /^(fc|fd|fe8|fe9|fea|feb)/.test(host))
  const ipv4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(host)
  if (!ipv4) return true
  const [a, b] = [Number(ipv4[1]), Number(ipv4[2])]
  return !(
    a === 127 ||
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254)
  )
}

export const twilioSms = definePlugin<TwilioSmsOptions>({
  name: 'twilio-sms',
  version: '1.0.0',
  options: optionsSchema,
  events: ['twilio-sms.opted_out', 'twilio-sms.opted_in'],
  migrations: [inboundMessagesTable],
  publicPaths: [SMS_WEBHOOK_PATH, SMS_STATUS_PATH, VOICE_GATHER_PATH, VOICE_STATUS_PATH, DEV_SMS_PATH],
  tables: [INBOUND_MESSAGES],
  // `kronus sms`: texts a running server through this webhook, to try replies without a phone.
  commands: registerSmsCommand,

  async register(kronus, options) {
    const creds: Credentials = {
      accountSid: options.accountSid ?? kronus.config.twilio.accountSid,
      authToken: options.authToken ?? kronus.config.twilio.authToken,
      messagingServiceSid: options.messagingServiceSid ?? kronus.config.twilio.messagingServiceSid
    }

    if (kronus.config.dev) {
      // Dev mode prints texts instead of sending them; the webhook still works for local tests.
      kronus.logger.info('dev mode: texts are printed, not sent through Twilio')
    } else {
      checkCredentials(creds, options.client !== undefined)
      const publicUrl = kronus.config.kronus.publicUrl
      const callerNumber = options.callerNumber ?? kronus.config.twilio.callerNumber ?? null
      if (!callerNumber) {
        kronus.logger.warn(
          'no twilio.callerNumber (or TWILIO_CALLER_NUMBER): voice calls cannot be placed, alarms reach contacts by text only'
        )
      }
      // Twilio cannot post receipts to this machine's loopback or a private network: ask for none there.
      const receipts = twilioCanReach(publicUrl)
      if (!receipts) {
        kronus.logger.warn(
          { publicUrl },
          'kronus.publicUrl is not reachable from Twilio: texts go without a StatusCallback (no delivery receipts) and key presses during calls cannot come back'
        )
      }
      const transport = new TwilioSmsTransport({
        accountSid: creds.accountSid,
        authToken: creds.authToken,
        messagingServiceSid: creds.messagingServiceSid,
        messagesPerSecond: options.messagesPerSecond,
        burst: options.burst,
        validityPeriodSeconds: options.validityPeriodSeconds,
        requestTimeoutMs: options.requestTimeoutMs,
        statusCallbackUrl: receipts ? twilioWebhookUrl(publicUrl, SMS_STATUS_PATH) : undefined,
        onStatusCallbackRefused: (url, err) =>
          kronus.logger.warn({ url, err }, 'Twilio refused the StatusCallback; the text went without it (no receipt)'),
        voice: {
          callerNumber,
          gatherUrl: (ref) => twilioWebhookUrl(publicUrl, gatherPath(ref)),
          statusCallbackUrl: receipts ? twilioWebhookUrl(publicUrl, VOICE_STATUS_PATH) : undefined,
          callsPerSecond: options.callsPerSecond
        },
        client: options.client,
        clock: kronus.clock
      })
      kronus.messaging.registerChannel(transport, { default: true })
    }
    if (!creds.authToken) {
      kronus.logger.warn(
        `no twilio.authToken: every POST to ${SMS_WEBHOOK_PATH}, ${SMS_STATUS_PATH}, ${VOICE_GATHER_PATH} and ${VOICE_STATUS_PATH} is refused`
      )
    }

    kronus.server.routePublic(smsWebhookRoute(kronus, { authToken: creds.authToken, channel: TWILIO_CHANNEL }))
    kronus.server.routePublic(
      statusCallbackRoute(kronus, {
        authToken: creds.authToken,
        channel: TWILIO_CHANNEL,
        handledChannel: TWILIO_STATUS_CHANNEL
      })
    )
    kronus.server.routePublic(voiceGatherRoute(kronus, { authToken: creds.authToken, channel: TWILIO_CHANNEL }))
    kronus.server.routePublic(voiceStatusRoute(kronus, { authToken: creds.authToken, channel: TWILIO_CHANNEL }))
    // The web console's phone panel: texts as if from a phone, on this machine only.
    if (kronus.config.dev) kronus.server.routePublic(devSmsRoute(kronus, TWILIO_CHANNEL))
    registerKeywords(kronus)

    kronus.jobs.define('twilio-sms.prune_inbound', async ({ keepDays }) => {
      const before = kronus.clock.now() - keepDays * 24 * 3600_000
      const removed = await pruneHandled(kronus.db, TWILIO_CHANNEL, before)
      if (removed > 0) kronus.logger.info({ removed }, 'pruned handled inbound texts')
      const receipts = await pruneHandled(kronus.db, TWILIO_STATUS_CHANNEL, before)
      if (receipts > 0) kronus.logger.info({ removed: receipts }, 'pruned handled status callbacks')
    })
    await kronus.schedules.schedule('twilio-sms.prune_inbound', '23 4 * * *', {
      keepDays: options.keepInboundDays ?? 30
    })
  }
})
