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
