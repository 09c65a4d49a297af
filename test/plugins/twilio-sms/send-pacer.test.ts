import t from 'tap'
import { SendPacer } from '../../../plugins/twilio-sms/send-pacer.js'
import { FakeClock } from '../../../src/clock.js'

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
