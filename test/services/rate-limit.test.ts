import t from 'tap'
import { buildKronus } from '../helpers/app.js'

const WINDOW_MS = 15 * 60_000

t.test('attempts within the limit pass; the next one waits until the window ends', async (t) => {
  const kronus = await buildKronus(t)
  const limiter = kronus.services.rateLimiter
  for (let i = 1; i <= 3; i++) t.equal(await limiter.consume('login:account:a', 3, WINDOW_MS), 0, `attempt ${i}`)
  t.equal(await limiter.consume('login:account:a', 3, WINDOW_MS), 15 * 60)
  kronus.clock.advance(WINDOW_MS - 1500)
  t.equal(await limiter.consume('login:account:a', 3, WINDOW_MS), 2, 'rounded up to whole seconds')
  kronus.clock.advance(1500)
  t.equal(await limiter.consume('login:account:a', 3, WINDOW_MS), 0, 'a new window')
  t.equal(await limiter.consume('login:account:b', 3, WINDOW_MS), 0, 'keys are independent')
})

t.test('release gives back one attempt; reset clears the key', async (t) => {
  const kronus = await buildKronus(t)
  const limiter = kronus.services.rateLimiter
  await limiter.consume('login:address:::1', 2, WINDOW_MS)
  await limiter.consume('login:address:::1', 2, WINDOW_MS)
  await limiter.release('login:address:::1')
  t.equal(await limiter.consume('login:address:::1', 2, WINDOW_MS), 0)
  t.ok((await limiter.consume('login:address:::1', 2, WINDOW_MS)) > 0)
  await limiter.reset('login:address:::1')
  t.equal(await limiter.consume('login:address:::1', 2, WINDOW_MS), 0)
})

t.test('simultaneous attempts are counted one by one', async (t) => {
  const kronus = await buildKronus(t)
  const waits = await Promise.all(
    Array.from({ length: 10 }, () => kronus.services.rateLimiter.consume('login:account:x', 4, WINDOW_MS))
  )
  t.equal(waits.filter((w) => w === 0).length, 4)
})

t.test('expired counters are removed, and only those of the same kind', async (t) => {
  const kronus = await buildKronus(t)
  const limiter = kronus.services.rateLimiter
  await limiter.consume('login:account:old', 3, WINDOW_MS)
  await kronus
    .knex('rate_limits')
    .insert({ key: 'probes.on_demand:1:2026-01-05', count: 1, reset_at: kronus.clock.now() + 1 })
  kronus.clock.advance(WINDOW_MS)
  await limiter.consume('login:account:new', 3, WINDOW_MS)
  const keys = (await kronus.knex('rate_limits').select('key').orderBy('key')).map((r) => r.key)
  t.same(keys, ['login:account:new', 'probes.on_demand:1:2026-01-05'])
})
