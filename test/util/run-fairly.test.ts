import t from 'tap'
import { runFairly } from '../../src/util/run-fairly.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

/** Tasks that end when told to: `end(i)`, or all of a key's with `endKey`. */
function controlledTasks(keys: string[]) {
  const enders = new Map<number, () => void>()
  const started: number[] = []
  const ended: number[] = []
  let atOnce = 0
  let peak = 0
  const run = (i: number) =>
    new Promise<void>((resolve) => {
      started.push(i)
      peak = Math.max(peak, ++atOnce)
      enders.set(i, () => {
        atOnce--
        ended.push(i)
        resolve()
      })
    })
  const end = (i: number) => {
    const ender = enders.get(i)
    enders.delete(i)
    ender?.()
  }
  return {
    run,
    started,
    ended,
    peak: () => peak,
    end,
    endKey: (key: string) => {
      for (const i of [...enders.keys()]) if (keys[i] === key) end(i)
    }
  }
}

t.test('at most `slots` tasks run at once; one key runs in its order', async (t) => {
  const keys = Array(5).fill('a')
  const tasks = controlledTasks(keys)
  let done = false
  const all = runFairly(keys, 2, tasks.run, () => false).then(() => {
    done = true
  })
  await tick()
  t.same(tasks.started, [0, 1])
  tasks.end(0)
  await tick()
  t.same(tasks.started, [0, 1, 2], 'the next begins when a slot frees')
  for (const i of [1, 2, 3, 4]) {
    tasks.end(i)
    await tick()
  }
  await all
  t.ok(done)
  t.equal(tasks.peak(), 2)
  t.same(tasks.started, [0, 1, 2, 3, 4])
})

t.test("a key whose tasks hang takes only the slots no other key's tasks wait for", async (t) => {
  // Ten of a key that hangs come first, then five of a key whose tasks end at once.
  const keys = [...Array(10).fill('hangs'), ...Array(5).fill('quick')]
  const tasks = controlledTasks(keys)
  let done = false
  const all = runFairly(keys, 3, tasks.run, () => false).then(() => {
    done = true
  })
  for (let i = 0; i < 10; i++) {
    tasks.endKey('quick')
    await tick()
  }
  t.same(
    tasks.ended.filter((i) => keys[i] === 'quick'),
    [10, 11, 12, 13, 14],
    'every quick task ran and ended while the first ones hung'
  )
  t.equal(tasks.started.filter((i) => keys[i] === 'hangs').length, 3, 'then the hung key has every slot')
  t.notOk(done, 'not done while tasks run')
  for (let i = 0; i < 10; i++) {
    tasks.endKey('hangs')
    await tick()
  }
  await all
  t.equal(tasks.started.length, 15)
  t.equal(tasks.peak(), 3)
})

t.test('once stopped, no task begins; it resolves when those running end', async (t) => {
  const keys = ['a', 'b', 'a', 'b']
  const tasks = controlledTasks(keys)
  let stop = false
  let done = false
  const all = runFairly(keys, 2, tasks.run, () => stop).then(() => {
    done = true
  })
  await tick()
  t.same(tasks.started, [0, 1])
  stop = true
  tasks.end(0)
  await tick()
  t.same(tasks.started, [0, 1], 'nothing more begins')
  t.notOk(done, 'one still runs')
  tasks.end(1)
  await all
  t.ok(done)
})
