import type { MessagingChannel, OutgoingText } from '../../src/messaging/channel.js'

/**
 * A messaging channel that only counts: the fan-out benchmark's stopwatch stops when the
 * expected number of texts has been handed to it. It keeps no texts, so it adds nothing
 * to the memory being measured.
 */
export class CountingChannel implements MessagingChannel {
  readonly name = 'bench-counter'
  count = 0
  firstAt: number | null = null
  lastAt: number | null = null
  #target = Infinity
  #reached: (() => void) | null = null

  async send(_message: OutgoingText): Promise<{ messageId: string }> {
    const now = Date.now()
    this.count += 1
    this.firstAt ??= now
    this.lastAt = now
    if (this.count >= this.#target) this.#reached?.()
    return { messageId: `bench-${this.count}` }
  }

  /** Resolves once `target` texts have been sent in all. */
  waitFor(target: number): Promise<void> {
    this.#target = target
    if (this.count >= target) return Promise.resolve()
    return new Promise((resolve) => {
      this.#reached = resolve
    })
  }
}
