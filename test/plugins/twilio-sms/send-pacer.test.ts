import t from 'tap'
import { SendPacer } from '../../../plugins/twilio-sms/send-pacer.js'
import { FakeClock } from '../../../src/clock.js'
import { ManualTimers } from './manual-timers.js'

const noSleep = async () => {}

t.test('each reservation waits one interval longer than the last while the bucket is empty', async (t) => {
  const clock = new FakeClock(0)
  const pacer = new SendPacer(4, 1, clock, noSleep)
  t.same([pacer.reserve(), pacer.reserve(), pacer.reserve()], [0, 250, 500])
  clock.advance(500)
  t.equal(pacer.reserve(), 250, 'time passing pays back the backlog')
})

t.test('idle time refills only up to the burst size', async (t) => {
  const clock = new FakeClock(0)
  const pacer = new SendPacer(1, 2, clock, noSleep)
  clock.advance(3_600_000)
  t.same([pacer.reserve(), pacer.reserve(), pacer.reserve()], [0, 0, 1000])
})

t.test('a clock stepping backwards neither frees nor blocks sends', async (t) => {
  const clock = new FakeClock(10_000)
  const pacer = new SendPacer(1, 1, clock, noSleep)
  t.equal(pacer.reserve(), 0)
  clock.set(5_000)
  t.equal(pacer.reserve(), 1000, 'still one interval behind, not 6 s')
  clock.set(11_000)
  t.equal(pacer.reserve(), 1000, 'only the time past the latest reading counts')
})

t.test('acquire sleeps for the reserved wait', async (t) => {
  const clock = new FakeClock(0)
  const slept: number[] = []
  const pacer = new SendPacer(10, 1, clock, async (ms) => {
    slept.push(ms)
  })
  await pacer.acquire()
  await pacer.acquire()
  t.same(slept, [100], 'no sleep when a token is free')
})

t.test('nonsense rates are refused', async (t) => {
  const clock = new FakeClock(0)
  for (const rate of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new SendPacer(rate, 1, clock, noSleep), RangeError, `rate ${rate}`)
  }
  for (const burst of [0, 1.5]) {
    t.throws(() => new SendPacer(1, burst, clock, noSleep), RangeError, `burst ${burst}`)
  }
})

t.test('an emergency text gets the next slot, ahead of every other text waiting', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const pacer = new SendPacer(1, 1, clock, timers.sleep)
  const order: string[] = []
  const take = (name: string, emergency = false) =>
    pacer.acquire({ emergency }).then(() => {
      order.push(name)
    })
  const waits = [take('c1'), take('c2'), take('c3'), take('c4')]
  t.equal(pacer.waiting, 3, 'the first had a token; three wait in line')
  waits.push(take('alarm1', true), take('alarm2', true), take('c5'))
  await timers.runUntilSettled(Promise.all(waits))
  t.same(order, ['c1', 'alarm1', 'alarm2', 'c2', 'c3', 'c4', 'c5'])
  t.equal(clock.now(), 6000, 'still one a second: seven sends from 0 s to 6 s')
})

t.test('waiting callers are let through one a second, never in a burst', async (t) => {
  const clock = new FakeClock(0)
  const timers = new ManualTimers(clock)
  const pacer = new SendPacer(1, 1, clock, timers.sleep)
  const at: number[] = []
  const waits = Array.from({ length: 5 }, () => pacer.acquire().then(() => at.push(clock.now())))
  await timers.runUntilSettled(Promise.all(waits))
  t.same(at, [0, 1000, 2000, 3000, 4000])
})
