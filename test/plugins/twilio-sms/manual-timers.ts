import type { FakeClock } from '../../../src/clock.js'

/**
 * A sleep() whose timers fire only when the test lets them, in due order, moving the
 * FakeClock to each timer's due time; so paced code runs without waiting on wall time.
 */
export class ManualTimers {
  readonly #pending: Array<{ at: number; seq: number; resolve: () => void }> = []
  #seq = 0
  /** Every duration asked for, in call order. */
  readonly requested: number[] = []

  constructor(private readonly clock: FakeClock) {}

  readonly sleep = (ms: number): Promise<void> => {
    this.requested.push(ms)
    return new Promise((resolve) => this.#pending.push({ at: this.clock.now() + ms, seq: this.#seq++, resolve }))
  }

  /** Fires timers one at a time, letting the code react to each, until `work` settles. */
  async runUntilSettled<T>(work: Promise<T>): Promise<T> {
    let settled = false
    work.then(
      () => (settled = true),
      () => (settled = true)
    )
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve))
      if (settled) return work
      this.#pending.sort((a, b) => a.at - b.at || a.seq - b.seq)
      const next = this.#pending.shift()
      if (!next) continue
      this.clock.set(Math.max(this.clock.now(), next.at))
      next.resolve()
    }
  }
}
