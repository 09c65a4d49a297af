import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { gcsBackup } from '../../../plugins/gcs-backup/index.js'
import { FakeClock } from '../../../src/clock.js'
import { retryDelayMs } from '../../../src/queue/backoff.js'
import { TEST_SQLCIPHER_KEY } from '../../helpers/app.js'
import { call, createAdmin } from '../../helpers/http.js'
import { querySnapshot, tempDir } from './helpers.js'
import { BUCKET, buildBackupKronus, latestPointer, startFakeGcs, storedBackups, T0 } from './kronus-with-backups.js'

// The key buildKronus gives its databases.
const PASS = TEST_SQLCIPHER_KEY

/** Moves the clock to the next full hour and runs what the hourly backup schedule enqueues. */
async function nextScheduledBackup(kronus: {
  clock: FakeClock
  cronSchedules: { tick(): Promise<number> }
  queue: { drain(): Promise<void> }
}) {
  const now = kronus.clock.now()
  kronus.clock.set(Math.floor(now / 3600_000) * 3600_000 + 3600_000)
  const fired = await kronus.cronSchedules.tick()
  await kronus.queue.drain()
  return fired
}

t.test(
  'the schedule takes a backup: encrypted, under a timestamped name, latest pointed at it, backup.completed emitted',
  async (t) => {
    const clock = new FakeClock(T0)
    const fake = await startFakeGcs(t, clock)
    const kronus = await buildBackupKronus(t, { fake, clock })
    const admin = await createAdmin(kronus)

    t.equal(await kronus.cronSchedules.tick(), 0, 'nothing before the first fire')
    t.same(storedBackups(fake), [])
    t.equal(await nextScheduledBackup(kronus), 1, 'the 13:00 fire is enqueued')

    const name = 'kronus/kronus-2026-11-30T13-00-00.000Z.db'
    t.same(storedBackups(fake), [name])
    t.equal(latestPointer(fake), name)
    const stored = fake.object(BUCKET, name)!
    t.notOk(
      stored.data.subarray(0, 16).equals(Buffer.from('SQLite format 3\0', 'latin1')),
      'the stored copy is not plain SQLite'
    )

    const file = join(tempDir(t), 'downloaded.db')
    writeFileSync(file, stored.data)
    const users = await querySnapshot(file, PASS, 'SELECT email FROM users')
    t.same(
      users.map((u) => u.email),
      [admin.email],
      'the backup holds the data, readable with the passphrase'
    )

    const completed = await kronus.events.list({ type: 'backup.completed' })
    t.same(
      completed.map((e) => e.payload),
      [{ name, bytes: stored.data.length, durationMs: 0 }]
    )
    t.same(await kronus.events.list({ type: 'backup.failed' }), [])
  }
)

t.test('a backup is taken at shutdown, after the last request', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock })
  await kronus.start()
  const admin = await createAdmin(kronus)
  clock.advanceMinutes(7)
  t.same(storedBackups(fake), [], 'no backup before the schedule')

  await kronus.stop('test')
  const name = 'kronus/kronus-2026-11-30T12-07-00.000Z.db'
  t.same(storedBackups(fake), [name])
  t.equal(latestPointer(fake), name)
  const file = join(tempDir(t), 'downloaded.db')
  writeFileSync(file, fake.object(BUCKET, name)!.data)
  t.same(
    (await querySnapshot(file, PASS, 'SELECT email FROM users')).map((u) => u.email),
    [admin.email]
  )
})

t.test('only the newest `keep` backups are kept', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock, plugin: { keep: 2 } })
  for (let i = 0; i < 4; i++) await nextScheduledBackup(kronus)
  t.same(storedBackups(fake), [
    'kronus/kronus-2026-11-30T15-00-00.000Z.db',
    'kronus/kronus-2026-11-30T16-00-00.000Z.db'
  ])
  t.equal(latestPointer(fake), 'kronus/kronus-2026-11-30T16-00-00.000Z.db')
  t.equal((await kronus.events.list({ type: 'backup.completed' })).length, 4)
})

t.test('a failing upload (503) is reported with backup.failed, retried by the queue, and later succeeds', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock })
  fake.failNext(1, 503, (r) => r.method === 'POST' && r.query.get('uploadType') === 'resumable')

  await nextScheduledBackup(kronus)
  t.same(storedBackups(fake), [], 'nothing stored by the failed attempt')
  const failed = await kronus.events.list({ type: 'backup.failed' })
  t.equal(failed.length, 1)
  t.match(failed[0]!.payload, { attempt: 1, willRetry: true, error: /503/ })
  t.same(await kronus.events.list({ type: 'backup.completed' }), [])
  const health = await call(kronus, { url: '/health' })
  t.equal(health.statusCode, 200, 'the server is unaffected')
  const backupReasons = (reasons: string[] = []) => reasons.filter((r) => r.startsWith('gcs-backup'))
  t.match(
    backupReasons(health.body.data.reasons),
    [/^gcs-backup: the last backup to gs:\/\/kronus-backups\/kronus failed: .*503/],
    'but degraded until a backup succeeds'
  )

  clock.advance(retryDelayMs(1))
  await kronus.queue.drain()
  const retriedAt = 'kronus/kronus-2026-11-30T13-00-02.718Z.db'
  t.same(storedBackups(fake), [retriedAt], 'the retry took a fresh snapshot and stored it')
  t.equal(latestPointer(fake), retriedAt)
  t.same(
    (await kronus.events.list({ type: 'backup.completed' })).map((e) => e.payload.name),
    [retriedAt]
  )
  t.same(
    backupReasons((await call(kronus, { url: '/health' })).body.data.reasons),
    [],
    'a backup that succeeds ends it'
  )
})

t.test('a backup that keeps failing gives up after maxAttempts, says so, and the next fire tries again', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock, plugin: { maxAttempts: 2 } })
  fake.failNext(2, 503, (r) => r.method === 'POST' && r.query.get('uploadType') === 'resumable')

  await nextScheduledBackup(kronus)
  clock.advance(retryDelayMs(1))
  await kronus.queue.drain()
  const failed = await kronus.events.list({ type: 'backup.failed' })
  t.same(
    failed.map((e) => [e.payload.attempt, e.payload.willRetry]),
    [
      [1, true],
      [2, false]
    ]
  )
  const dead = await kronus.events.list({ type: 'job.dead' })
  t.match(
    dead.map((e) => e.payload),
    [{ name: 'gcs-backup.run', attempts: 2 }],
    'the queue reports the job dead too'
  )

  await nextScheduledBackup(kronus)
  t.same(storedBackups(fake), ['kronus/kronus-2026-11-30T14-00-00.000Z.db'], 'the next fire succeeds')
})

t.test('a backup failing at shutdown is reported and does not stop the shutdown', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock })
  await kronus.start()
  const failures: unknown[] = []
  kronus.events.on('backup.failed', (payload) => {
    failures.push(payload)
  })
  await fake.close()
  await kronus.stop('test')
  t.match(failures, [{ attempt: 1, willRetry: false, error: /uploading kronus\/kronus-.* failed/ }])
})

t.test('with sync off the plugin does nothing: no schedule, no restore, no request to GCS', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const kronus = await buildBackupKronus(t, { fake, clock, enabled: false })
  t.same(await kronus.knex('cron_schedules').where({ name: 'gcs-backup.run' }), [])
  await kronus.start()
  await kronus.stop()
  t.same(fake.requests, [])
})

t.test('bad options are refused where the plugin is configured', async (t) => {
  t.throws(() => gcsBackup({ keep: 0 }), /Bad options for gcs-backup: "keep" must be greater than or equal to 1/)
  t.throws(() => gcsBackup({ apiEndpoint: 'not a url' }), /"apiEndpoint" must be a valid uri/)
})

t.test('kronus server adds the plugin when backups are on for the sqlcipher database outside dev mode', async (t) => {
  const { builtinPlugins } = await import('../../../plugins/index.js')
  const config = (enabled: boolean, client: 'sqlcipher' | 'postgres' = 'sqlcipher', dev = false) => ({
    plugins: [],
    twilio: {},
    dev,
    database: { client, filename: 'kronus.db' },
    google: {
      storage: {
        bucket: BUCKET,
        prefix: 'kronus',
        sqliteBackupSchedule: '*/15 * * * *',
        enableSqliteBackupAndSync: enabled
      }
    }
  })
  const names = (c: ReturnType<typeof config>) => builtinPlugins(c).map((p) => p.name)
  t.ok(names(config(true)).includes('gcs-backup'))
  t.notOk(names(config(false)).includes('gcs-backup'), 'not when sync is off')
  t.notOk(names(config(true, 'postgres')).includes('gcs-backup'), 'not on PostgreSQL')
  t.notOk(names(config(true, 'sqlcipher', true)).includes('gcs-backup'), 'not in dev mode')
  const listed = { ...config(true), plugins: [gcsBackup({ keep: 3 })] }
  t.notOk(
    builtinPlugins(listed).some((p) => p.name === 'gcs-backup'),
    'not twice when the config lists it'
  )
})
