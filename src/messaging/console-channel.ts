import type { MessagingChannel, OutgoingCallRequest, OutgoingText } from './channel.js'

interface Writable {
  write(chunk: string): unknown
}

/**
 * Dev mode's channel: prints each outgoing text, and each voice call with what it would
 * say, to stdout instead of sending it. Nobody can press a key on a printed call: an
 * answer is tried by posting to the voice webhook, as for a text.
 */
export class ConsoleChannel implements MessagingChannel {
  readonly name = 'console'
  #sent = 0
  #called = 0

  constructor(private readonly out: Writable = process.stdout) {}

  async send(message: OutgoingText): Promise<{ messageId: string }> {
    this.#sent += 1
    this.out.write(`[kronus dev] text to ${message.to}:\n${message.text}\n`)
    return { messageId: `console-${this.#sent}` }
  }

  async call(call: OutgoingCallRequest): Promise<{ callId: string }> {
    this.#called += 1
    this.out.write(`[kronus dev] call to ${call.to} (ref ${call.ref}):\n${call.say}\n${call.prompt}\n`)
    return { callId: `console-call-${this.#called}` }
  }
}
