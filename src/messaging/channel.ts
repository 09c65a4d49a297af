/** A text on its way out: a phone number (E.164) and what to tell it. */
export interface OutgoingText {
  to: string
  text: string
  /** `emergency` for an alarm's text: a channel that paces its sends lets it go ahead of the others waiting. */
  priority?: 'emergency'
}

/**
 * A voice call on its way out: what to say, and the reference a key press is reported
 * with (messaging's call-answer handlers get it back with the digits).
 */
export interface OutgoingCallRequest {
  to: string
  /** Spoken to the person called, then "press 1 to ..." as `prompt` says. */
  say: string
  prompt: string
  ref: string
}

/**
 * A way to send texts (SMS through Twilio, the dev console, a test recorder). Plugins
 * register channels; Kronus sends every message through the default one.
 */
export interface MessagingChannel {
  /** Unique among channels, e.g. "twilio"; recorded with each message.sent event. */
  name: string
  /** Resolves once the provider accepted the text. Throws MessageDeliveryError to say whether a retry could help. */
  send(message: OutgoingText): Promise<{ messageId: string | null }>
  /**
   * Optional, and what makes this channel's texts exactly once: the provider's ids of the
   * texts to `message.to` with exactly this body that it accepted at or after `since`
   * (epoch ms, wall time), newest first. Kronus asks it before sending again a text whose
   * earlier send has no recorded outcome (its worker died, or the answer was lost); a
   * listed id that no other send has claimed is recorded as this text, and nothing is
   * sent. A channel without it (the dev console) sends such a text again: at least once.
   */
  reconcile?(message: OutgoingText, since: number): Promise<string[]>
  /**
   * Optional: places a voice call that says `call.say`, then asks for a key press with
   * `call.prompt`; a key pressed is reported back through Messaging#callAnswered. Throws
   * MessageDeliveryError as send() does. A channel without it cannot call.
   */
  call?(call: OutgoingCallRequest): Promise<{ callId: string | null }>
}

/**
 * A failed send. `permanent` means retrying cannot help (an invalid or unreachable number,
 * a number that opted out): the message fails at once instead of being retried.
 * `accountLevel` means the provider refused the account, not this text (bad credentials, a
 * suspended account): no text through this channel can go until the operator acts, and
 * the watchdog says Kronus is degraded at once (see docs/PLUGINS.md).
 */
export class MessageDeliveryError extends Error {
  readonly permanent: boolean
  readonly accountLevel: boolean

  constructor(message: string, options: { permanent: boolean; accountLevel?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause })
    this.name = 'MessageDeliveryError'
    this.permanent = options.permanent
    this.accountLevel = options.accountLevel ?? false
  }
}
