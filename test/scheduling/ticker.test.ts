import pino from 'pino'
import t from 'tap'
import { Ticker } from '../../src/scheduling/ticker.js'
import { gate } from '../queue/helpers.js'

const silent = pino({ level: 'silent' })

t.test('a started ticker runs its task at once, and stop waits for the tick in progress', async (t) => {
  let calls = 0
  const release = gate()
  const ticker = new Ticker(
    'test',
    60_000,
    async () => {
      calls++
      await release.promise
    },
    silent
  )
  ticker.start()
  t.equal(calls, 1, 'start-up work is not delayed by one interval')
  t.ok(ticker.running)

  let stopped = false
  const stopping = ticker.stop().then(() => {
    stopped = true
  })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(stopped, false, 'stop has not returned while a tick runs')
  release.open()
  await stopping
  t.equal(stopped, true)
  t.notOk(ticker.running)
})

t.test('a failing tick is logged and does not break the ticker', async (t) => {
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'error' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const ticker = new Ticker(
    'failing',
    60_000,
    async () => {
      throw new Error('database unavailable')
    },
    logger
  )
  ticker.start()
  await ticker.stop()
  await new Promise((resolve) => setImmediate(resolve))
  t.match(logs, [{ ticker: 'failing', msg: 'tick failed', err: { message: 'database unavailable' } }])
})

/** A ticker aligned to `clock`: it ticks on whole minutes, and on multiples of `intervalMs`. */
function alignedTicker(clock: { now(): number }, task: () => Promise<unknown>, intervalMs = 60_000): Ticker {
  return new Ticker('aligned', intervalMs, task, silent, { alignedTo: clock })
}

/** Waits for `check` to hold: a hang guard, not a time limit on the machine. */
async function eventually(check: () => boolean): Promise<boolean> {
  const giveUpAt = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > giveUpAt) return false
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return true
}

t.test(
  'an aligned ticker ticks when its clock reaches the next whole minute, not an interval after start',
  async (t) => {
    // The clock runs with real time, from 150 ms before a whole minute.
    const minute = Date.UTC(2026, 0, 5, 12, 1, 0)
    const startedAt = Date.now()
    const clock = { now: () => minute - 150 + (Date.now() - startedAt) }
    const ticks: number[] = []
    const ticker = alignedTicker(clock, async () => {
      ticks.push(clock.now())
    })
    t.teardown(() => ticker.stop())
    ticker.start()
    t.equal(ticks.length, 1, 'the first tick is at start')
    // A ticker counting 60 s from start would not tick again for a minute. (A timer may wake a
    // moment before the clock says; that tick is followed by the minute's.)
    t.ok(await eventually(() => ticks.some((at) => at >= minute)), 'a tick came at the minute')
    t.ok(ticks.length <= 3, `without polling in between: ${ticks.length} ticks`)
  }
)

t.test('an aligned ticker whose tick runs past the minute ticks again at once, not a minute later', async (t) => {
  const minute = Date.UTC(2026, 0, 5, 12, 1, 0)
  const startedAt = Date.now()
  const clock = { now: () => minute - 100 + (Date.now() - startedAt) }
  const ticks: number[] = []
  const ticker = alignedTicker(clock, async () => {
    ticks.push(clock.now())
    // The first tick is still running when the minute comes.
    if (ticks.length === 1) while (clock.now() < minute + 50) await new Promise((resolve) => setTimeout(resolve, 10))
  })
  t.teardown(() => ticker.stop())
  ticker.start()
  t.ok(await eventually(() => ticks.length === 2), "the minute's tick was not skipped")
  t.ok(ticks[1]! >= minute + 50, 'it came after the slow tick ended')
})

t.test('an aligned ticker also ticks on multiples of a shorter interval', async (t) => {
  const startedAt = Date.now()
  const clock = { now: () => Date.UTC(2026, 0, 5, 12, 0, 10) + (Date.now() - startedAt) }
  const ticks: number[] = []
  const ticker = alignedTicker(
    clock,
    async () => {
      ticks.push(clock.now())
    },
    100
  )
  t.teardown(() => ticker.stop())
  ticker.start()
  // The next whole minute is 50 s away: only ticks on the 100 ms multiples get here.
  t.ok(await eventually(() => ticks.length >= 4), 'it ticks on, before the minute')
})

t.test(
  'an aligned ticker runs again at once when its task says work is left, and a clock that stands still does not spin it',
  async (t) => {
    // A clock that stands on a whole minute: the next is a minute of real time away.
    const clock = { now: () => Date.UTC(2026, 0, 5, 12, 0, 0) }
    let calls = 0
    const ticker = alignedTicker(clock, async () => {
      calls += 1
      return calls < 4
    })
    t.teardown(() => ticker.stop())
    ticker.start()
    t.ok(await eventually(() => calls === 4), 'three more ticks without waiting for the minute')
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.equal(calls, 4, 'then it waits for the next minute')
  }
)

t.test('an aligned ticker stopped and started again keeps one timer', async (t) => {
  const clock = { now: () => Date.UTC(2026, 0, 5, 12, 0, 0) }
  let calls = 0
  const release = gate()
  const ticker = alignedTicker(clock, async () => {
    calls += 1
    if (calls === 1) await release.promise
    return calls < 3
  })
  t.teardown(() => ticker.stop())
  ticker.start()
  const stopping = ticker.stop()
  release.open()
  await stopping
  ticker.start()
  t.ok(await eventually(() => calls === 3), 'the new start ticks, and asks again while work is left')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(calls, 3, 'the tick of before the stop armed nothing')
})

t.test('an aligned tick that failed is tried again within 5 s, not at the next minute', async (t) => {
  const clock = { now: () => Date.UTC(2026, 0, 5, 12, 0, 0) }
  let calls = 0
  const ticker = alignedTicker(clock, async () => {
    calls += 1
    if (calls === 1) throw new Error('database unavailable')
  })
  t.teardown(() => ticker.stop())
  ticker.start()
  t.ok(await eventually(() => calls === 2), 'the failed tick was tried again')
})

t.test('an aligned ticker whose clock is set back an hour still ticks within its interval', async (t) => {
  let now = Date.UTC(2026, 0, 5, 12, 0, 0, 50)
  const clock = { now: () => now }
  let calls = 0
  const ticker = alignedTicker(
    clock,
    async () => {
      calls += 1
      // During the first tick the clock is stepped back an hour, as an NTP correction can.
      if (calls === 1) now -= 3_600_000
    },
    100
  )
  t.teardown(() => ticker.stop())
  ticker.start()
  t.ok(await eventually(() => calls >= 2), 'the next tick came within the interval, not an hour later')
})
