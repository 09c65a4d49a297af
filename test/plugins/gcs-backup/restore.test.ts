import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import t, { type Test } from 'tap'
import { createKronus } from '../../../src/app.js'
import { FakeClock } from '../../../src/clock.js'
import { resolveConfig } from '../../../src/config/resolve.js'
import type { FakeGcsApi } from '../../fakes/gcs-api.js'
import type { TestKronus } from '../../helpers/app.js'
import { call, createAdmin, createContact, createUser, login } from '../../helpers/http.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { tempDir } from './helpers.js'
import {
  BUCKET,
  buildBackupKronus,
  PREFIX,
  startFakeGcs,
  storedBackups,
  syncConfig,
  T0
} from './kronus-with-backups.js'

const DATA_TABLES = ['users', 'contacts', 'probe_settings']

async function tableRows(kronus: TestKronus): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {}
  for (const table of DATA_TABLES) rows[table] = await kronus.knex(table).select('*').orderBy('id')
  return rows
}

interface Origin {
  fake: FakeGcsApi
  clock: FakeClock
  rows: Record<string, unknown[]>
  admin: { email: string; password: string }
  backup: string
}

/** A Kronus with users and contacts, backed up once on its schedule and stopped (which backs up again). */
async function backedUpKronus(t: Test): Promise<Origin> {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const dir = tempDir(t)
  const kronus = await buildBackupKronus(t, { fake, clock, dir })
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await createContact(kronus, user, { is_emergency_contact: true })
  clock.set(T0 + 3600_000)
  await kronus.cronSchedules.tick()
  await kronus.queue.drain()
  const rows = await tableRows(kronus)
  clock.advanceMinutes(1)
  await kronus.stop()
  const backup = storedBackups(fake).at(-1)!
  return { fake, clock, rows, admin, backup }
}

/** Files a failed start left in the data folder. */
function leftovers(dir: string): string[] {
  return readdirSync(dir)
}

function removePointer(fake: FakeGcsApi): Promise<unknown> {
  return fake.storage().bucket(BUCKET).file(`${PREFIX}/latest`).delete()
}

t.test('with the database missing, start-up restores the latest backup and runs on the same data', async (t) => {
  const origin = await backedUpKronus(t)
  const dir = tempDir(t, 'kronus-restored-')
  const restored = await buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir })

  t.same(await tableRows(restored), origin.rows, 'users, contacts and probe settings are those backed up')
  t.ok((origin.rows.users as unknown[]).length >= 2)
  const token = await login(restored, origin.admin.email, origin.admin.password)
  t.equal((await call(restored, { url: '/v1/users', token })).statusCode, 200, 'the restored admin can log in and work')
})

t.test('a truncated backup is refused: start-up stops with a clear error and leaves no database', async (t) => {
  const origin = await backedUpKronus(t)
  const whole = origin.fake.object(BUCKET, origin.backup)!.data
  // Stored consistently with its own checksums, so only opening it tells.
  origin.fake.putObject(BUCKET, origin.backup, whole.subarray(0, 8192))

  const dir = tempDir(t, 'kronus-refused-')
  const err = await buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir }).then(
    () => null,
    (e: unknown) => e as Error
  )
  t.ok(err, 'start-up failed')
  t.match(err!.message, /plugin "gcs-backup" failed before the database was opened/)
  t.match(
    err!.message,
    `backup ${origin.backup} (latest in gs://${BUCKET}/${PREFIX}) could not be restored (1 attempt): refused: it is corrupt or truncated`
  )
  t.match(err!.message, /Kronus did not start rather than run on an empty database/)
  t.same(leftovers(dir), [], 'no database, sidecar or temp file was left behind')
})

t.test('a backup damaged in storage (a flipped byte) is refused and no database is created', async (t) => {
  const origin = await backedUpKronus(t)
  const damaged = Buffer.from(origin.fake.object(BUCKET, origin.backup)!.data)
  damaged[damaged.length - 100] = damaged[damaged.length - 100]! ^ 0x01
  origin.fake.putObject(BUCKET, origin.backup, damaged)

  const dir = tempDir(t, 'kronus-refused-')
  await t.rejects(
    buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir }),
    /could not be restored .*refused: it is corrupt/
  )
  t.same(leftovers(dir), [])
})

t.test('a download damaged on the way is tried again and the good copy restored', async (t) => {
  const origin = await backedUpKronus(t)
  // Without the pointer the next download is the backup itself, not the pointer.
  await removePointer(origin.fake)
  origin.fake.damageNextDownload('corrupt')
  const dir = tempDir(t, 'kronus-restored-')
  const restored = await buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir })
  const downloads = origin.fake.requests.filter(
    (r) => r.query.get('alt') === 'media' && r.path.includes(encodeURIComponent(origin.backup))
  )
  t.equal(downloads.length, 2, 'downloaded twice')
  t.same(await tableRows(restored), origin.rows)
})

t.test('when every download arrives damaged, start-up is refused', async (t) => {
  const origin = await backedUpKronus(t)
  await removePointer(origin.fake)
  for (const damage of ['truncate', 'corrupt'] as const) {
    origin.fake.damageNextDownload(damage)
    const dir = tempDir(t, 'kronus-refused-')
    const failed = buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir, plugin: { restoreAttempts: 1 } })
    await t.rejects(
      failed,
      /refusing backup .*fail GCS's checksum \(corrupt or truncated download\)/,
      `${damage} download refused`
    )
    t.same(leftovers(dir), [], 'nothing left behind')
  }
})

t.test('an existing database is never replaced at start-up', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const dir = tempDir(t)
  const first = await buildBackupKronus(t, { fake, clock, dir })
  await createAdmin(first)
  const rows = await tableRows(first)
  await first.stop()
  // A backup of another Kronus, newer, in the same place.
  const other = await buildBackupKronus(t, { fake, clock, dir: tempDir(t) })
  await createAdmin(other)
  clock.advanceMinutes(5)
  await other.stop()
  const downloadsBefore = fake.requests.filter((r) => r.query.get('alt') === 'media').length

  const reopened = await buildBackupKronus(t, { fake, clock, dir })
  t.same(await tableRows(reopened), rows)
  t.equal(fake.requests.filter((r) => r.query.get('alt') === 'media').length, downloadsBefore, 'nothing downloaded')
})

t.test('a stray WAL without its database stops start-up instead of being mixed with a restore', async (t) => {
  const origin = await backedUpKronus(t)
  const dir = tempDir(t, 'kronus-wal-')
  writeFileSync(join(dir, 'kronus.db-wal'), 'left over')
  await t.rejects(
    buildBackupKronus(t, { fake: origin.fake, clock: origin.clock, dir }),
    /kronus\.db-wal already exists/
  )
  t.same(leftovers(dir), ['kronus.db-wal'])
})

t.test('with an empty bucket a first start runs on a new, empty database and says so', async (t) => {
  const clock = new FakeClock(T0)
  const fake = await startFakeGcs(t, clock)
  const dir = tempDir(t)
  const lines: Array<{ level: number; msg: string; plugin?: string }> = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    }
  })
  const config = resolveConfig({
    ...syncConfig(fake),
    dataDir: dir,
    kronus: {
      privateKeyPem: testPrivateKeyPem(),
      sqlite: { passPhrase: 'test-passphrase' },
      listener: { port: 0, host: '127.0.0.1' }
    }
  })
  const kronus = await createKronus({ config, clock, logger: pino({ level: 'info' }, sink) })
  t.teardown(() => kronus.stop())

  t.ok(existsSync(join(dir, 'kronus.db')), 'a new database was created')
  t.same(await kronus.knex('users').select('id'), [])
  const warning = lines.find((l) => l.plugin === 'gcs-backup' && l.level === 40)
  t.match(warning?.msg, `no database and no backup in gs://${BUCKET}/${PREFIX}: starting with an empty database`)
})

t.test(
  'a backup taken under concurrent writes restores to a database that passes integrity_check and holds every row committed before it',
  async (t) => {
    const clock = new FakeClock(T0)
    const fake = await startFakeGcs(t, clock)
    const kronus = await buildBackupKronus(t, { fake, clock, dir: tempDir(t) })
    await kronus.knex.schema.createTable('written_rows', (table) => {
      table.increments('id')
      table.integer('writer').notNullable()
    })
    let stop = false
    let committed = 0
    const writers = [1, 2, 3].map(async (writer) => {
      while (!stop) {
        await kronus.knex('written_rows').insert({ writer })
        committed++
      }
    })
    while (committed < 100) await new Promise((resolve) => setImmediate(resolve))
    const before = (await kronus.knex('written_rows').select('id')).map((row: { id: number }) => row.id)

    clock.set(T0 + 3600_000)
    await kronus.cronSchedules.tick()
    const backingUp = kronus.queue.drain()
    const atRequest = committed
    await backingUp
    const duringBackup = committed - atRequest
    stop = true
    await Promise.all(writers)
    t.ok(duringBackup > 0, `writers kept committing during the backup (${duringBackup} rows)`)
    t.equal(storedBackups(fake).length, 1)

    const restored = await buildBackupKronus(t, { fake, clock, dir: tempDir(t, 'kronus-restored-') })
    t.same(await restored.knex.raw('PRAGMA integrity_check'), [{ integrity_check: 'ok' }])
    const restoredIds = new Set((await restored.knex('written_rows').select('id')).map((row: { id: number }) => row.id))
    t.same(
      before.filter((id: number) => !restoredIds.has(id)),
      [],
      'every row committed before the backup is restored'
    )
    const live = Number((await kronus.knex('written_rows').count({ n: '*' }))[0]!.n)
    t.ok(restoredIds.size < live, `rows written after the snapshot are not in it (${restoredIds.size} of ${live})`)
  }
)
