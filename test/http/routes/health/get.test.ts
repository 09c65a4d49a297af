import t from 'tap'
import { NO_CHANNEL_REASON } from '../../../../src/services/watchdog.js'
import { buildKronus } from '../../../helpers/app.js'
import { call } from '../../../helpers/http.js'
import { RecordingChannel } from '../../../helpers/recording-channel.js'

t.test('health needs no token and reports the database', async (t) => {
  const kronus = await buildKronus(t)
  kronus.messaging.registerChannel(new RecordingChannel())
  const res = await call(kronus, { url: '/health' })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: { status: 'ok', database: 'ok' } })
})

t.test('health is a 200 that says degraded, with the reasons, while Kronus cannot do its work', async (t) => {
  // No SMS channel: nobody could be texted.
  const kronus = await buildKronus(t)
  const res = await call(kronus, { url: '/health' })
  t.equal(res.statusCode, 200, 'a load balancer keeps the instance: another would not text either')
  t.same(res.body, { success: true, data: { status: 'degraded', database: 'ok', reasons: [NO_CHANNEL_REASON] } })
})

t.test('health is a 503 when the database cannot answer', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.knex.destroy()
  const res = await call(kronus, { url: '/health' })
  t.equal(res.statusCode, 503)
  t.same(res.body, { success: false, errors: ['database unavailable'] })
})
