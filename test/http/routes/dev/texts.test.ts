import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call } from '../../../helpers/http.js'
import { schemaError } from '../alarms/fixtures.js'

/** Runs `fn` with the console channel's printing kept out of the test output. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = (() => true) as typeof process.stdout.write
  try {
    return await fn()
  } finally {
    process.stdout.write = write
  }
}

t.test('GET /dev/texts: what the dev channel sent, texts and calls, oldest first, after an id', async (t) => {
  const kronus = await buildKronus(t, { config: { dev: true } as never })
  await quietly(async () => {
    await kronus.messaging.send({ to: '+15550001111', text: 'first text' })
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(1)
    await kronus.messaging.call({
      to: '+15550002222',
      say: 'Ada needs help.',
      prompt: 'Press 1 if you can help.',
      ref: 'alarm-contact:7'
    })
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(1)
    await kronus.messaging.send({ to: '+15550001111', text: 'second text' })
    await kronus.queue.drain()
  })
  const url = '/dev/texts'
  const res = await call(kronus, { url })
  t.equal(res.statusCode, 200)
  t.error(schemaError(kronus, 'GET', url, res), 'the body matches the documented schema')
  const start = Date.UTC(2026, 0, 5, 12, 0)
  t.match(res.body.data, [
    { to: '+15550001111', body: 'first text', kind: 'sms', at: new Date(start).toISOString() },
    {
      to: '+15550002222',
      body: 'Ada needs help.\nPress 1 if you can help.',
      kind: 'call',
      at: new Date(start + 60_000).toISOString()
    },
    { to: '+15550001111', body: 'second text', kind: 'sms', at: new Date(start + 120_000).toISOString() }
  ])
  t.equal(res.body.data.length, 3)
  const ids = res.body.data.map((x: any) => x.id)
  t.ok(ids[0] < ids[1] && ids[1] < ids[2], 'ids rise: a cursor')
  const after = await call(kronus, { url: `${url}?after=${ids[0]}` })
  t.same(
    after.body.data.map((x: any) => x.body),
    ['Ada needs help.\nPress 1 if you can help.', 'second text']
  )
  t.same((await call(kronus, { url: `${url}?after=${ids[2]}` })).body.data, [], 'nothing new')
  const bad = await call(kronus, { url: `${url}?after=x` })
  t.equal(bad.statusCode, 400)
  t.match(bad.body.errors[0], /"after" must be a number/)
  t.equal((await call(kronus, { url, remoteAddress: '192.0.2.7' })).statusCode, 403, 'only callers on this machine')
})

t.test('without dev mode there is no /dev/texts', async (t) => {
  const kronus = await buildKronus(t)
  t.equal((await call(kronus, { url: '/dev/texts' })).statusCode, 404)
})
