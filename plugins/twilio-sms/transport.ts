import { type Clock, MessageDeliveryError, type MessagingChannel, type OutgoingText } from 'kronus'
import { realSleep, SendPacer, type Sleep } from './send-pacer.js'
import { twilioSdk } from './twilio-sdk.js'

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

/** The slice of the twilio client the transport uses; a real `twilio()` client fits. */
export interface TwilioMessagesClient {
  messages: {
    create(params: {
      to: string
      body: string
      messagingServiceSid: string
      validityPeriod: number
    }): Promise<{ sid: string }>
    /** Twilio's Messages list (newest first), followed across pages by the SDK up to `limit`. */
    list(params: {
      to: string
      dateSentAfter: Date
      limit: number
    }): Promise<Array<{ sid: string; body: string; dateCreated: Date }>>
  }
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

  constructor(options: TwilioSmsTransportOptions) {
    const validity = options.validityPeriodSeconds ?? 3600
    if (!Number.isInteger(validity) || validity < 1 || validity > MAX_VALIDITY_PERIOD_SECONDS) {
      throw new RangeError(
        `validityPeriodSeconds must be a whole number from 1 to ${MAX_VALIDITY_PERIOD_SECONDS}, got ${validity}`
      )
    }
    this.validityPeriodSeconds = validity
    this.#messagingServiceSid = options.messagingServiceSid
    this.#pacer = new SendPacer(
      options.messagesPerSecond ?? 1,
      options.burst ?? 1,
      // Pacing follows Twilio's real rate limit, so without a clock it reads wall time.
      options.clock ?? { now: () => Date.now() },
      options.sleep ?? realSleep
    )
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
    try {
      const created = await this.#client.messages.create({
        to: message.to,
        body: message.text,
        messagingServiceSid: this.#messagingServiceSid,
        validityPeriod: this.validityPeriodSeconds
      })
      return { messageId: created.sid ?? null }
    } catch (error) {
      throw toDeliveryError(error)
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
export function toDeliveryError(error: unknown): MessageDeliveryError {
  const status = numberProp(error, 'status')
  const code = numberProp(error, 'code')
  const detail = error instanceof Error ? error.message : String(error)
  if (status === undefined) {
    const networkCode =
      typeof (error as { code?: unknown })?.code === 'string' ? ` (${(error as { code: string }).code})` : ''
    return new MessageDeliveryError(`Twilio request failed${networkCode}: ${detail}`, {
      permanent: false,
      cause: error
    })
  }
  const reason = code === undefined ? undefined : PERMANENT_TWILIO_ERROR_CODES.get(code)
  const permanent = reason !== undefined && status >= 400 && status < 500
  const codeText = code === undefined ? '' : ` code ${code}`
  return new MessageDeliveryError(
    `Twilio rejected the message (HTTP ${status}${codeText}${reason ? `, ${reason}` : ''}): ${detail}`,
    { permanent, cause: error }
  )
}

function numberProp(value: unknown, key: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const prop = (value as Record<string, unknown>)[key]
  return typeof prop === 'number' && Number.isFinite(prop) ? prop : undefined
}
