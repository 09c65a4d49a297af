/** At most `size` holders at once; the others wait in arrival order. */
export class Semaphore {
  #active = 0
  readonly #waiting: Array<() => void> = []

  constructor(readonly size: number) {}

  /** How many holders run now. */
  get active(): number {
    return this.#active
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#active >= this.size) await new Promise<void>((resolve) => this.#waiting.push(resolve))
    else this.#active++
    try {
      return await work()
    } finally {
      // The slot passes straight to the next waiter, so #active never drops in between.
      const next = this.#waiting.shift()
      if (next) next()
      else this.#active--
    }
  }
}
