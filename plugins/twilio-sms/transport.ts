import {
  type Clock,
  MessageDeliveryError,
  type MessagingChannel,
  type OutgoingCallRequest,
  type OutgoingText
} from 'kronus'
import { ACCOUNT_TWILIO_ERROR_CODES } from './delivery-codes.js'
import { realSleep, SendPacer, type Sleep } from './send-pacer.js'
import { twilioSdk } from './twilio-sdk.js'
import { voiceAlertTwiml } from './twiml.js'

/** Twilio's limit: a queued message older than this is dropped instead of sent. */
export const MAX_VALIDITY_PERIOD_SECONDS = 36_000

/**
 * Twilio error codes that mean this message can never be delivered as sent, so retrying
 * only delays the `message failed` record (and, for 21610, would keep texting someone who
 * said STOP at the carrier).
 */
export const PERMANENT_TWILIO_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [21211, 'invalid To number'],
  [21408, 'sending to this region is not enabled'],
  [21602, 'message body is required'],
  [21604, 'To number is required'],
  [21608, 'To number is not verified for this trial account'],
  [21610, 'recipient has unsubscribed (opted out)'],
  [21612, 'To number is not reachable via SMS'],
  [21614, 'To number is not a mobile number'],
  [21617, 'message body exceeds the 1600 character limit'],
  [21635, 'To number is a landline']
])

/**
 * Twilio error codes that mean this call can never be placed as asked: an invalid,
 * unreachable or forbidden number, or a caller number Twilio will not call from (which a
 * retry cannot fix either; the operator must).
 */
export const PERMANENT_TWILIO_CALL_ERROR_CODES: ReadonlyMap<number, string> = new Map([
  [13224, 'Twilio cannot call this number, or it is invalid'],
  [13225, 'calling this number is forbidden (premium or high-risk)'],
  [13227, 'no permission to call this country'],
  [21201, 'To number is required'],
  [21210, 'the caller number is not a verified Twilio number of this account'],
  [21211, 'invalid To number'],
  [21212, 'invalid caller number'],
  [21213, 'a caller number is required'],
  [21214, 'To number cannot be reached'],
  [21215, "this account's geographic permissions do not allow calling this number"],
  [21216, 'this account may not call this number (high-risk or blocked)'],
  [21217, 'To number does not appear to be valid'],
  [21219, 'To number is not verified for this trial account']
])

/** What the account-level codes Twilio answers a request with mean (see ACCOUNT_TWILIO_ERROR_CODES). */
const ACCOUNT_ERROR_REASONS: ReadonlyMap<number, string> = new Map([
  [20003, 'authentication failed: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN'],
  [20005, 'the Twilio account is not active (suspended or closed)']
])

/** Twilio's code for a StatusCallback it will not take (not a URL it accepts). */
const INVALID_STATUS_CALLBACK = 21609

/** The longest TwiML Twilio takes inline in a Calls request. */
export const MAX_CALL_TWIML_CHARS = 4000

/** The slice of the twilio client the transport uses; a real `twilio()` client fits. */
export interface TwilioMessagesClient {
  messages: {
    create(params: {
      to: string
      body: string
      messagingServiceSid: string
      validityPeriod: number
      statusCallback?: string
    }): Promise<{ sid: string }>
    /** Twilio's Messages list (newest first), followed across pages by the SDK up to `limit`. */
    list(params: {
      to: string
      dateSentAfter: Date
      limit: number
    }): Promise<Array<{ sid: string; body: string; dateCreated: Date }>>
  }
  /** Twilio's Calls API; a client without it (a texts-only test double) cannot call. */
  calls?: {
    create(params: {
      to: string
      from: string
      twiml: string
      statusCallback?: string
      statusCallbackMethod?: 'POST'
    }): Promise<{ sid: string }>
  }
}

/** How the transport places voice calls. */
export interface TwilioVoiceOptions {
  /** The Twilio number calls come from (E.164); null: every call fails, naming the setting. */
  callerNumber: string | null
  /** Where the person's key press is posted (the Gather action), for a call with this ref. */
  gatherUrl(ref: string): string
  /** Where Twilio posts how the call ended. */
  statusCallbackUrl?: string
  /** Calls per second (Twilio's default limit is 1). Default 1. */
  callsPerSecond?: number
}

/**
 * How far Twilio's clock may be behind Kronus's when reconciling: a text is looked for
 * from this long before its send began. An older text with the same body that is not
 * some other send's would be wrongly matched, so this stays small.
 */
export const RECONCILE_CLOCK_SKEW_MS = 5 * 60_000
/** At most this many texts to one number are read when reconciling (Twilio pages them). */
const RECONCILE_LIST_LIMIT = 1000

export interface TwilioSmsTransportOptions {
  accountSid: string
  authToken: string
  messagingServiceSid: string
  /** Sends per second across this transport. Default 1, a long code's usual limit. */
  messagesPerSecond?: number
  /** Sends allowed back to back after a quiet spell. Default 1. */
  burst?: number
  /** Seconds Twilio may queue the message before giving up on it. Default 3600. */
  validityPeriodSeconds?: number
  /** Per-request timeout; kept well under the job queue's 60 s run timeout. Default 15 s. */
  requestTimeoutMs?: number
  /** Twilio's StatusCallback for every text: where delivery receipts are posted. None when unset. */
  statusCallbackUrl?: string
  /** Told when Twilio refused the StatusCallback and the text went without it (to log it). */
  onStatusCallbackRefused?: (url: string, error: unknown) => void
  /** Voice calls; without it the channel cannot call. */
  voice?: TwilioVoiceOptions
  /** Tests inject a client pointed at a fake API; production builds one from the credentials. */
  client?: TwilioMessagesClient
  clock?: Clock
  sleep?: Sleep
}

export class TwilioSmsTransport implements MessagingChannel {
  readonly name = 'twilio'
  readonly validityPeriodSeconds: number
  readonly #client: TwilioMessagesClient
  readonly #messagingServiceSid: string
  readonly #pacer: SendPacer
  readonly #statusCallbackUrl: string | undefined
  readonly #onStatusCallbackRefused: ((url: string, error: unknown) => void) | undefined
  readonly #voice: TwilioVoiceOptions | undefined
  readonly #callPacer: SendPacer

  constructor(options: TwilioSmsTransportOptions) {
    const validity = options.validityPeriodSeconds ?? 3600
    if (!Number.isInteger(validity) || validity < 1 || validity > MAX_VALIDITY_PERIOD_SECONDS) {
      throw new RangeError(
        `validityPeriodSeconds must be a whole number from 1 to ${MAX_VALIDITY_PERIOD_SECONDS}, got ${validity}`
      )
    }
    this.validityPeriodSeconds = validity
    this.#messagingServiceSid = options.messagingServiceSid
    this.#statusCallbackUrl = options.statusCallbackUrl
    this.#onStatusCallbackRefused = options.onStatusCallbackRefused
    this.#voice = options.voice
    // Pacing follows Twilio's real rate limit, so without a clock it reads wall time.
    const clock = options.clock ?? { now: () => Date.now() }
    this.#pacer = new SendPacer(options.messagesPerSecond ?? 1, options.burst ?? 1, clock, options.sleep ?? realSleep)
    // Calls have their own limit at Twilio (calls per second), apart from texts'.
    this.#callPacer = new SendPacer(options.voice?.callsPerSecond ?? 1, 1, clock, options.sleep ?? realSleep)
    this.#client =
      options.client ??
      twilioSdk()(options.accountSid, options.authToken, {
        timeout: options.requestTimeoutMs ?? 15_000,
        // The job queue owns retries; SDK-level retries would hide attempts from it.
        autoRetry: false
      })
  }

  async send(message: OutgoingText): Promise<{ messageId: string | null }> {
    await this.#pacer.acquire({ emergency: message.priority === 'emergency' })
    const params = {
      to: message.to,
      body: message.text,
      messagingServiceSid: this.#messagingServiceSid,
      validityPeriod: this.validityPeriodSeconds
    }
    try {
      const created = await this.#client.messages.create(
        this.#statusCallbackUrl ? { ...params, statusCallback: this.#statusCallbackUrl } : params
      )
      return { messageId: created.sid ?? null }
    } catch (error) {
      // A receipt is worth less than the text: one Twilio refuses the StatusCallback of
      // goes out without it (no receipt will come) rather than not at all.
      if (!this.#statusCallbackUrl || numberProp(error, 'code') !== INVALID_STATUS_CALLBACK)
        throw toDeliveryError(error)
      this.#onStatusCallbackRefused?.(this.#statusCallbackUrl, error)
    }
    try {
      const created = await this.#client.messages.create(params)
      return { messageId: created.sid ?? null }
    } catch (error) {
      throw toDeliveryError(error)
    }
  }

  /**
   * A voice call through Twilio's Calls API, from the configured caller number, with
   * inline TwiML that says the alert and gathers one key, posted with the call's ref to
   * Kronus's signed Gather webhook. Errors follow the texts' rules, with the calls' own
   * permanent codes.
   */
  async call(call: OutgoingCallRequest): Promise<{ callId: string | null }> {
    const voice = this.#voice
    const calls = this.#client.calls
    if (!voice || !calls) {
      throw new MessageDeliveryError('this Twilio channel is not set up for voice calls', { permanent: true })
    }
    if (!voice.callerNumber) {
      throw new MessageDeliveryError(
        'voice calls need a caller number: set twilio.callerNumber (or TWILIO_CALLER_NUMBER) to a Twilio voice number',
        { permanent: true }
      )
    }
    const twiml = voiceAlertTwiml({ say: call.say, prompt: call.prompt, gatherAction: voice.gatherUrl(call.ref) })
    if (twiml.length > MAX_CALL_TWIML_CHARS) {
      throw new MessageDeliveryError(
        `the call's words are too long for Twilio (${twiml.length} of ${MAX_CALL_TWIML_CHARS} characters of TwiML)`,
        { permanent: true }
      )
    }
    await this.#callPacer.acquire()
    try {
      const created = await calls.create({
        to: call.to,
        from: voice.callerNumber,
        twiml,
        ...(voice.statusCallbackUrl ? { statusCallback: voice.statusCallbackUrl, statusCallbackMethod: 'POST' } : {})
      })
      return { callId: created.sid ?? null }
    } catch (error) {
      throw toDeliveryError(error, 'call')
    }
  }

  /**
   * The texts to this number with this body that Twilio accepted since `since`: the
   * account's Messages filtered by To and DateSent (Twilio's DateSent> is "on or after",
   * to the second), matched on the body and on when Twilio created them.
   */
  async reconcile(message: OutgoingText, since: number): Promise<string[]> {
    const from = new Date(Math.floor((since - RECONCILE_CLOCK_SKEW_MS) / 1000) * 1000)
    try {
      const listed = await this.#client.messages.list({
        to: message.to,
        dateSentAfter: from,
        limit: RECONCILE_LIST_LIMIT
      })
      return listed.filter((m) => m.body === message.text && m.dateCreated >= from).map((m) => m.sid)
    } catch (error) {
      throw toDeliveryError(error)
    }
  }
}

/**
 * Anything not known to be permanent is retryable: a missed check-in is worse than a
 * duplicate, and the job queue bounds the retries anyway. That includes timeouts, even
 * though Twilio may have accepted the request before the connection dropped.
 */
export function toDeliveryError(error: unknown, what: 'message' | 'call' = 'message'): MessageDeliveryError {
  const status = numberProp(error, 'status')
  const code = numberProp(error, 'code')
  const detail = error instanceof Error ? error.message : String(error)
  if (status === undefined) {
    const networkCode =
      typeof (error as { code?: unknown })?.code === 'string' ? ` (${(error as { code: string }).code})` : ''
    const request = what === 'call' ? 'Twilio call request' : 'Twilio request'
    return new MessageDeliveryError(`${request} failed${networkCode}: ${detail}`, {
      permanent: false,
      cause: error
    })
  }
  const permanentCodes = what === 'call' ? PERMANENT_TWILIO_CALL_ERROR_CODES : PERMANENT_TWILIO_ERROR_CODES
  const accountReason = code === undefined ? undefined : ACCOUNT_ERROR_REASONS.get(code)
  const reason = code === undefined ? undefined : (permanentCodes.get(code) ?? accountReason)
  // An account-level refusal is retried like any other: the operator may fix it while texts wait.
  const permanent = reason !== undefined && accountReason === undefined && status >= 400 && status < 500
  const codeText = code === undefined ? '' : ` code ${code}`
  return new MessageDeliveryError(
    `Twilio rejected the ${what} (HTTP ${status}${codeText}${reason ? `, ${reason}` : ''}): ${detail}`,
    { permanent, accountLevel: code !== undefined && ACCOUNT_TWILIO_ERROR_CODES.has(code), cause: error }
  )
}

function numberProp(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const prop = (value as Record<string, unknown>)[key]
  return typeof prop === 'number' && Number.isFinite(prop) ? prop : undefined
}
