import type { MessagingChannel, OutgoingText } from './channel.js'

interface Writable {
  write(chunk: string): unknown
}

/** Dev mode's channel: prints each outgoing text to stdout instead of sending it. */
export class ConsoleChannel implements MessagingChannel {
  readonly name = 'console'
  #sent = 0

  constructor(private readonly out: Writable = process.stdout) {}

  async send(message: OutgoingText): Promise<{ messageId: string }> {
    this.#sent += 1
    this.out.write(`[kronus dev] text to ${message.to}:\n${message.text}\n`)
    return { messageId: `console-${this.#sent}` }
  }
}
