/** Peak resident set size, sampled every `everyMs` (100 ms by default) while running. */
export class RssSampler {
  peak = 0
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly everyMs = 100) {}

  start(): this {
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.everyMs)
    return this
  }

  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss)
  }

  stop(): number {
    clearInterval(this.#timer)
    this.sample()
    return this.peak
  }
}
