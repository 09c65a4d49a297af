import t from 'tap'
import { performance } from 'node:perf_hooks'
import { buildKronus } from './helpers/app.js'
import { createAdmin, createUser } from './helpers/http.js'
import { testPrivateKeyPem } from './helpers/keys.js'
t.test('prof', async (t) => {
  let s = performance.now(); testPrivateKeyPem(); console.log('key', performance.now() - s)
  for (let i = 0; i < 4; i++) {
    s = performance.now()
    const cpu0 = process.cpuUsage()
    const k = await buildKronus(t)
    const c = process.cpuUsage(cpu0)
    console.log('build', performance.now() - s, 'cpu', (c.user + c.system) / 1000)
    s = performance.now()
    const a = await createAdmin(k)
    await createUser(k, a)
    console.log('admin+user', performance.now() - s)
  }
})
