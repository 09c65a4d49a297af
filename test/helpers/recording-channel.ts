import type { MessagingChannel, OutgoingText } from '../../src/messaging/channel.js'

/** A messaging channel that keeps what it sends, and fails on demand. */
export class RecordingChannel implements MessagingChannel {
  readonly sent: OutgoingText[] = []
  /** Every call of send, including failed ones. */
  attempts = 0
  readonly #failures: unknown[] = []

  constructor(readonly name = 'recording') {}

  /** The next send throws `err` instead of sending; queue several to fail several times. */
  failNext(err: unknown): void {
    this.#failures.push(err)
  }

  async send(message: OutgoingText): Promise<{ messageId: string }> {
    this.attempts += 1
    if (this.#failures.length > 0) throw this.#failures.shift()
    this.sent.push({ to: message.to, text: message.text })
    return { messageId: `${this.name}-${this.sent.length}` }
  }
}
