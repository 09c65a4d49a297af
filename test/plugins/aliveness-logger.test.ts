import t from 'tap'
import { alivenessLogger } from '../../examples/plugins/aliveness-logger.js'
import { buildKronus } from '../helpers/app.js'
import { call, createAdmin, createUser } from '../helpers/http.js'

t.test('the example plugin counts aliveness changes durably and summarises them on its cron', async (t) => {
  const kronus = await buildKronus(t, { config: { plugins: [alivenessLogger({ summaryCron: '0 8 * * *' })] } })
  await kronus.events.emit('user.aliveness_changed', { userId: 1, from: 'unknown', to: 'good', probeId: 1 })
  await kronus.events.emit('user.aliveness_changed', { userId: 1, from: 'good', to: 'unavailable', probeId: 2 })
  await kronus.events.emit('user.aliveness_changed', { userId: 2, from: 'unknown', to: 'bad', probeId: 3 })
  await kronus.queue.drain()

  const admin = await createAdmin(kronus)
  const counts = await call(kronus, { url: '/plugins/aliveness-logger/counts', token: admin.token })
  t.same(counts.body.data, { good: 1, bad: 1, unavailable: 1, unknown: 0 })
  const user = await createUser(kronus, admin)
  t.equal(
    (await call(kronus, { url: '/plugins/aliveness-logger/counts', token: user.token })).statusCode,
    403,
    'admins only'
  )

  kronus.clock.set('2026-01-06T08:00:00Z')
  t.equal(await kronus.cronSchedules.tick(), 1, "the summary's fire")
  await kronus.queue.drain()
  const summaries = await kronus.events.list({ type: 'aliveness-logger.summary' })
  t.same(
    summaries.map((e) => e.payload),
    [{ changes: 3, byState: { good: 1, bad: 1, unavailable: 1, unknown: 0 } }]
  )
})

t.test('the example plugin refuses bad options', async (t) => {
  t.throws(
    () => alivenessLogger({ logRecoveries: 'sometimes' as unknown as boolean }),
    /Bad options for aliveness-logger: "logRecoveries" must be a boolean/
  )
})
