import t from 'tap'
import { Semaphore } from '../../src/util/semaphore.js'

t.test('at most `size` holders run at once, the others in arrival order', async (t) => {
  const pool = new Semaphore(2)
  const releases: Array<() => void> = []
  const started: number[] = []
  let peak = 0
  const runs = Array.from({ length: 5 }, (_, i) =>
    pool.run(async () => {
      started.push(i)
      peak = Math.max(peak, pool.active)
      await new Promise<void>((resolve) => releases.push(resolve))
      return i
    })
  )
  await new Promise((resolve) => setImmediate(resolve))
  t.same(started, [0, 1], 'two start')
  releases.shift()!()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(started, [0, 1, 2], 'the next one starts when a slot frees')
  while (started.length < 5 || releases.length > 0) {
    releases.shift()?.()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.same(await Promise.all(runs), [0, 1, 2, 3, 4])
  t.equal(peak, 2)
  t.equal(pool.active, 0, 'every slot is given back')
})

t.test('a failing holder gives its slot back', async (t) => {
  const pool = new Semaphore(1)
  await t.rejects(
    pool.run(async () => {
      throw new Error('boom')
    }),
    /boom/
  )
  t.equal(await pool.run(async () => 'next'), 'next')
  t.equal(pool.active, 0)
})
