/**
 * Every reading of "now" in Kronus goes through a Clock, so tests can drive weeks of
 * schedules in milliseconds and the whole system agrees on one notion of time.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

export const systemClock: Clock = {
  now: () => Date.now()
}

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  #now: number

  constructor(start: number | Date | string = Date.UTC(2026, 0, 5, 12, 0, 0)) {
    this.#now = new Date(start).getTime()
  }

  now(): number {
    return this.#now
  }

  set(at: number | Date | string): void {
    this.#now = new Date(at).getTime()
  }

  advance(ms: number): number {
    this.#now += ms
    return this.#now
  }

  advanceMinutes(minutes: number): number {
    return this.advance(minutes * 60_000)
  }
}
