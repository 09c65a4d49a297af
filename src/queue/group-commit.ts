/**
 * Writes that callers may share: items added while a write is under way are written
 * together by the next one, so n jobs ending at about the same time cost one statement
 * and one commit rather than n (group commit). A lone item is written in the next turn
 * of the event loop. Each caller's promise settles when the write that holds its items does.
 */
export class GroupCommit<T> {
  #pending: T[] = []
  #waiting: Array<{ resolve(): void; reject(error: unknown): void }> = []
  #writing: Promise<void> | undefined

  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(items: T[]): Promise<void> {
    if (items.length === 0) return Promise.resolve()
    const done = new Promise<void>((resolve, reject) => {
      this.#pending.push(...items)
      this.#waiting.push({ resolve, reject })
    })
    if (!this.#writing) this.#writing = this.#drain()
    return done
  }

  /** Settles when everything added so far is written (or failed). */
  async settled(): Promise<void> {
    await this.#writing
  }

  async #drain(): Promise<void> {
    // The jobs of one claim end in the same turn of the event loop: one write for all of them.
    await new Promise((resolve) => setImmediate(resolve))
    while (this.#pending.length > 0) {
      const items = this.#pending
      const waiting = this.#waiting
      this.#pending = []
      this.#waiting = []
      try {
        await this.write(items)
        for (const w of waiting) w.resolve()
      } catch (error) {
        for (const w of waiting) w.reject(error)
      }
    }
    this.#writing = undefined
  }
}
