import type { Clock } from 'kronus'

export type Sleep = (ms: number) => Promise<void>

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * A token bucket that hands out send slots. A slot is reserved synchronously (the token
 * count may go negative), so concurrent callers queue behind each other instead of all
 * waking at once and bursting past the rate.
 */
export class SendPacer {
  readonly #ratePerMs: number
  readonly #capacity: number
  #tokens: number
  #refilledAt: number

  constructor(
    messagesPerSecond: number,
    burst: number,
    private readonly clock: Clock,
    private readonly sleep: Sleep
  ) {
    if (!Number.isFinite(messagesPerSecond) || messagesPerSecond <= 0) {
      throw new RangeError(`messagesPerSecond must be a positive number, got ${messagesPerSecond}`)
    }
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`burst must be a whole number of at least 1, got ${burst}`)
    }
    this.#ratePerMs = messagesPerSecond / 1000
    this.#capacity = burst
    this.#tokens = burst
    this.#refilledAt = clock.now()
  }

  /** Resolves when the caller may send. */
  async acquire(): Promise<void> {
    const waitMs = this.reserve()
    if (waitMs > 0) await this.sleep(waitMs)
  }

  /** Takes a token and returns how long to wait before using it. */
  reserve(): number {
    const now = this.clock.now()
    // A clock stepping backwards must not mint or destroy tokens.
    const elapsed = Math.max(0, now - this.#refilledAt)
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs)
    this.#refilledAt = Math.max(this.#refilledAt, now)
    this.#tokens -= 1
    if (this.#tokens >= 0) return 0
    return Math.ceil(-this.#tokens / this.#ratePerMs)
  }
}
