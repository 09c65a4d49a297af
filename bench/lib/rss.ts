/** Peak resident set size, sampled every `everyMs` (100 ms by default) while running. */
export class RssSampler {
  peak = 0
  /** process.memoryUsage() of the sample that set the peak: where the memory was. */
  atPeak: NodeJS.MemoryUsage | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(private readonly everyMs = 100) {}

  start(): this {
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.everyMs)
    return this
  }

  sample(): void {
    const usage = process.memoryUsage()
    if (usage.rss > this.peak) {
      this.peak = usage.rss
      this.atPeak = usage
    }
  }

  stop(): number {
    clearInterval(this.#timer)
    this.sample()
    return this.peak
  }

  /** Where the memory was at the peak, e.g. "at the peak: JS heap 76 MiB used of 109, external 4 MiB". */
  describePeak(): string {
    const at = this.atPeak
    if (!at) return 'not sampled'
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0)
    return `at the peak: JS heap ${mib(at.heapUsed)} MiB used of ${mib(at.heapTotal)}, external ${mib(at.external)} MiB`
  }
}
