import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FakeClock } from '../../src/clock.js'
import { heartbeatCron, heartbeatUrl } from '../../src/services/heartbeat.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { onPostgres } from '../helpers/db.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

const MINUTE = 60_000

/** A monitor on loopback that records each ping's method and path. */
async function monitor(t: Test, status = 200): Promise<{ url: string; pings: string[]; server: Server }> {
  const pings: string[] = []
  const server = createServer((req, res) => {
    pings.push(`${req.method} ${req.url}`)
    res.statusCode = status
    res.end('OK')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/ping/5bf6`, pings, server }
}

async function minute(...instances: TestKronus[]): Promise<void> {
  instances[0]!.clock.advance(MINUTE)
  for (const kronus of instances) await kronus.cronSchedules.tick()
  for (let round = 0; round < 100; round++) {
    const ran = await Promise.all(instances.map((k) => k.queue.runDue()))
    if (ran.every((n) => n === 0)) return
  }
}

t.test('the heartbeat URL gets /fail appended to its path while degraded', async (t) => {
  t.equal(heartbeatUrl('https://hc-ping.com/abc', false), 'https://hc-ping.com/abc')
  t.equal(heartbeatUrl('https://hc-ping.com/abc', true), 'https://hc-ping.com/abc/fail')
  t.equal(heartbeatUrl('https://hc-ping.com/abc/', true), 'https://hc-ping.com/abc/fail')
  t.equal(heartbeatUrl('https://example.com/p?rid=1', true), 'https://example.com/p/fail?rid=1')
  t.equal(heartbeatCron(60), '* * * * *')
  t.equal(heartbeatCron(300), '*/5 * * * *')
  t.equal(heartbeatCron(3600), '0 * * * *')
})

t.test('pinged once a minute; with /fail while degraded, and without again once well', async (t) => {
  const hc = await monitor(t)
  const kronus = await buildKronus(t, { config: { kronus: { heartbeat: { url: hc.url } } } })
  kronus.clock.set('2026-05-04T10:00:00Z')
  await minute(kronus)
  t.same(hc.pings, ['GET /ping/5bf6/fail'], 'no channel: degraded')

  kronus.messaging.registerChannel(new RecordingChannel())
  await minute(kronus)
  await minute(kronus)
  t.same(hc.pings, ['GET /ping/5bf6/fail', 'GET /ping/5bf6', 'GET /ping/5bf6'], 'one ping a minute')
})

t.test('a monitor that is down or answers an error is logged and the pings go on', async (t) => {
  const hc = await monitor(t, 500)
  const kronus = await buildKronus(t, { config: { kronus: { heartbeat: { url: hc.url } } } })
  kronus.messaging.registerChannel(new RecordingChannel())
  kronus.clock.set('2026-05-04T10:00:00Z')
  await minute(kronus)
  t.same(hc.pings, ['GET /ping/5bf6'])
  await new Promise<void>((resolve) => hc.server.close(() => resolve()))
  await minute(kronus)
  const runs = await kronus.knex('jobs').where({ name: 'kronus.heartbeat' }).orderBy('id')
  t.same(
    runs.map((r) => r.status),
    ['successful', 'successful'],
    'both runs end well: a failed ping is not retried, the next minute pings again'
  )
})

t.test('intervalSeconds spaces the pings on the cron', async (t) => {
  const hc = await monitor(t)
  // The clock is at its time before the schedule is made: no fire to make up.
  const clock = new FakeClock(Date.parse('2026-05-04T10:00:30Z'))
  const config = { kronus: { heartbeat: { url: hc.url, intervalSeconds: 300 } } }
  const kronus = await buildKronus(t, { clock, config })
  kronus.messaging.registerChannel(new RecordingChannel())
  for (let m = 0; m < 10; m++) await minute(kronus)
  t.equal(hc.pings.length, 2, '10:05 and 10:10')
})

t.test(
  'two instances on one PostgreSQL database ping once a minute between them',
  { skip: !onPostgres() },
  async (t) => {
    const hc = await monitor(t)
    const dir = mkdtempSync(join(tmpdir(), 'kronus-heartbeat-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const clock = new FakeClock(Date.parse('2026-05-04T10:00:30Z'))
    const config = { kronus: { heartbeat: { url: hc.url } } }
    const a = await buildKronus(t, { dir, clock, config, database: 'postgres' })
    const b = await buildKronus(t, { dir, clock, config, database: 'postgres' })
    for (const kronus of [a, b]) kronus.messaging.registerChannel(new RecordingChannel())
    for (let m = 0; m < 5; m++) await minute(a, b)
    t.same(hc.pings, Array(5).fill('GET /ping/5bf6'), 'five minutes, five pings')
  }
)
