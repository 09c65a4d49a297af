import type { Clock } from 'kronus'

export type Sleep = (ms: number) => Promise<void>

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

interface Waiter {
  emergency: boolean
  resolve: () => void
}

/**
 * A token bucket that hands out send slots. Callers who find no token wait in line, and
 * one loop hands the tokens out as they come, one at a time, so waiting callers never all
 * wake at once and burst past the rate. An emergency caller (an alarm's text) joins the
 * line ahead of every other text waiting, behind only earlier emergency callers: with
 * thousands of check-in texts paced at one a second, an alert still goes out next.
 */
export class SendPacer {
  readonly #ratePerMs: number
  readonly #capacity: number
  #tokens: number
  #refilledAt: number
  /** Emergency waiters first (in arrival order), then the others (in arrival order). */
  readonly #line: Waiter[] = []
  #handingOut = false

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

  /** How many callers wait for a slot now. */
  get waiting(): number {
    return this.#line.length
  }

  /** Resolves when the caller may send; `emergency` callers go ahead of the others waiting. */
  acquire(options: { emergency?: boolean } = {}): Promise<void> {
    const emergency = options.emergency === true
    this.#refill()
    if (this.#line.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const waiter = { emergency, resolve }
      if (emergency) {
        const firstOther = this.#line.findIndex((w) => !w.emergency)
        this.#line.splice(firstOther === -1 ? this.#line.length : firstOther, 0, waiter)
      } else this.#line.push(waiter)
      if (!this.#handingOut) void this.#handOut()
    })
  }

  /**
   * Takes a token now and returns how long to wait before using it (the token count may go
   * negative, and later callers wait that much longer). For a caller that does its own
   * waiting; senders use acquire(), which keeps the emergency line.
   */
  reserve(): number {
    this.#refill()
    this.#tokens -= 1
    if (this.#tokens >= 0) return 0
    return Math.ceil(-this.#tokens / this.#ratePerMs)
  }

  #refill(): void {
    const now = this.clock.now()
    // A clock stepping backwards must not mint or destroy tokens.
    const elapsed = Math.max(0, now - this.#refilledAt)
    this.#tokens = Math.min(this.#capacity, this.#tokens + elapsed * this.#ratePerMs)
    this.#refilledAt = Math.max(this.#refilledAt, now)
  }

  /** The one loop that hands tokens to the line, first in line first, as they come. */
  async #handOut(): Promise<void> {
    this.#handingOut = true
    try {
      while (this.#line.length > 0) {
        this.#refill()
        if (this.#tokens >= 1) {
          this.#tokens -= 1
          this.#line.shift()!.resolve()
          continue
        }
        await this.sleep(Math.max(1, Math.ceil((1 - this.#tokens) / this.#ratePerMs)))
        // The slot waited for goes to whoever is first in line now (an emergency text that
        // came meanwhile), even if the clock says the token is not quite there: a sleep
        // that returns early (or a clock that does not move) must not spin this loop.
        this.#refill()
        this.#tokens -= 1
        this.#line.shift()!.resolve()
      }
    } finally {
      this.#handingOut = false
    }
  }
}
