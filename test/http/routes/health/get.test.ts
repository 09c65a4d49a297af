import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call } from '../../../helpers/http.js'

t.test('health needs no token and reports the database', async (t) => {
  const kronus = await buildKronus(t)
  const res = await call(kronus, { url: '/health' })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: { status: 'ok', database: 'ok' } })
})

t.test('health is a 503 when the database cannot answer', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.knex.destroy()
  const res = await call(kronus, { url: '/health' })
  t.equal(res.statusCode, 503)
  t.same(res.body, { success: false, errors: ['database unavailable'] })
})
