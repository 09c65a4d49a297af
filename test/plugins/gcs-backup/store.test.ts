import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { BackupError } from '../../../plugins/gcs-backup/errors.js'
import { takeSnapshot } from '../../../plugins/gcs-backup/snapshot.js'
import { BackupStore, type BackupStoreOptions } from '../../../plugins/gcs-backup/store.js'
import { SnapshotRejectedError } from '../../../plugins/gcs-backup/verify.js'
import { FakeClock } from '../../../src/clock.js'
import { FakeGcsApi, RESUMABLE_CHUNK_QUANTUM } from '../../fakes/gcs-api.js'
import { buildKronus, TEST_SQLCIPHER_KEY } from '../../helpers/app.js'
import { querySnapshot, tempDir } from './helpers.js'

const BUCKET = 'kronus-backups'
// The key buildKronus gives its databases.
const PASS = TEST_SQLCIPHER_KEY
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0)
const NAME_AT_T0 = 'kronus/kronus-2026-11-29T12-00-00.000Z.db'

interface Snapshots {
  /** Two encrypted snapshots of the same Kronus, a few hundred KiB each, differing in content. */
  first: string
  second: string
  dir: string
}

let snapshots: Snapshots

t.before(async () => {
  const kronus = await buildKronus(t)
  const dir = tempDir(t)
  await kronus.knex.schema.createTable('backup_marker', (table) => {
    table.increments('id')
    table.string('note')
    table.binary('padding')
  })
  // Random padding does not compress, so uploads span several resumable chunks.
  for (let i = 0; i < 24; i++)
    await kronus.knex('backup_marker').insert({ note: `row ${i}`, padding: randomBytes(16_384) })
  const first = join(dir, 'first.db')
  await takeSnapshot(kronus.knex, first)
  await kronus.knex('backup_marker').insert({ note: 'only in the second', padding: randomBytes(16) })
  const second = join(dir, 'second.db')
  await takeSnapshot(kronus.knex, second)
  snapshots = { first, second, dir }
})

interface Setup {
  fake: FakeGcsApi
  store: BackupStore
  clock: FakeClock
  dir: string
}

async function setup(t: Test, options: Partial<BackupStoreOptions> = {}): Promise<Setup> {
  const clock = new FakeClock(T0)
  const fake = await FakeGcsApi.start({ buckets: [BUCKET], now: () => clock.now() })
  t.teardown(() => fake.close())
  // Client-side retries off: the store's caller owns retrying, and tests stay fast.
  const storage = fake.storage({ retryOptions: { autoRetry: false } })
  const store = new BackupStore({
    storage,
    bucket: BUCKET,
    prefix: 'kronus/',
    passPhrase: PASS,
    clock,
    chunkSize: RESUMABLE_CHUNK_QUANTUM,
    ...options
  })
  return { fake, store, clock, dir: tempDir(t) }
}

async function backupError(promise: Promise<unknown>): Promise<BackupError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e
  )
  if (!(err instanceof BackupError)) throw new Error(`expected a BackupError, got ${String(err)}`)
  return err
}

function pointer(fake: FakeGcsApi): string | undefined {
  return fake.object(BUCKET, 'kronus/latest')?.data.toString()
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('.'))
}

t.test('upload stores the snapshot under a timestamped name, in chunks, then moves latest', async (t) => {
  const { fake, store } = await setup(t)
  const progress: Array<[number, number]> = []
  const stored = await store.upload(snapshots.first, { onProgress: (done, total) => progress.push([done, total]) })

  const bytes = readFileSync(snapshots.first)
  t.equal(stored.name, NAME_AT_T0)
  t.equal(stored.takenAt, T0)
  t.equal(stored.bytes, bytes.length)
  t.ok(fake.object(BUCKET, NAME_AT_T0)!.data.equals(bytes), 'GCS holds exactly the snapshot bytes')
  t.equal(pointer(fake), NAME_AT_T0)

  const chunks = fake.requests.filter((r) => r.method === 'PUT')
  t.ok(chunks.length >= 2, `uploaded in ${chunks.length} resumable chunks`)
  const uploadIndex = fake.requests.findIndex((r) => r.method === 'PUT' && r.status === 200)
  const pointerIndex = fake.requests.findIndex((r) => r.query.get('name') === 'kronus/latest')
  t.ok(pointerIndex > uploadIndex, 'latest is written only after the backup is complete')

  t.ok(progress.length >= 2, 'progress is reported along the way')
  t.same(progress.at(-1), [bytes.length, bytes.length], 'progress ends at the full size')
  t.ok(
    progress.every(
      ([done, total], i) => total === bytes.length && done <= total && (i === 0 || done >= progress[i - 1]![0])
    ),
    'progress only moves forward'
  )
})

t.test('list is newest first, prune keeps the newest N, download restores the latest', async (t) => {
  const { fake, store, clock, dir } = await setup(t)
  await store.upload(snapshots.first)
  clock.advanceMinutes(60)
  await store.upload(snapshots.first)
  clock.advanceMinutes(60)
  const newest = await store.upload(snapshots.second)
  fake.putObject(BUCKET, 'kronus/notes.txt', Buffer.from('not a backup'))
  fake.putObject(BUCKET, 'kronus/kronus-bogus.db', Buffer.from('not a backup either'))
  fake.putObject(BUCKET, 'elsewhere/kronus-2026-11-29T15-00-00.000Z.db', Buffer.from('another prefix'))

  const listed = await store.list()
  t.same(
    listed.map((b) => b.name),
    ['kronus/kronus-2026-11-29T14-00-00.000Z.db', 'kronus/kronus-2026-11-29T13-00-00.000Z.db', NAME_AT_T0]
  )
  t.same(
    listed.map((b) => b.takenAt),
    [T0 + 2 * 3600_000, T0 + 3600_000, T0]
  )

  t.same(await store.prune(2), [NAME_AT_T0])
  t.same(
    (await store.list()).map((b) => b.name),
    [newest.name, 'kronus/kronus-2026-11-29T13-00-00.000Z.db']
  )
  t.ok(fake.object(BUCKET, 'kronus/notes.txt'), 'prune leaves other objects alone')
  t.same(await store.prune(2), [], 'nothing more to prune')

  const dest = join(dir, 'restored', 'kronus.db')
  const progress: Array<[number, number]> = []
  const restored = await store.downloadLatest(dest, { onProgress: (done, total) => progress.push([done, total]) })
  t.equal(restored.name, newest.name)
  t.equal(restored.file, dest)
  t.ok(readFileSync(dest).equals(readFileSync(snapshots.second)), 'the restored file is the newest snapshot')
  t.ok(restored.verified.migrations > 0)
  t.same(progress.at(-1), [restored.bytes, restored.bytes])
  const notes = await querySnapshot(dest, PASS, "SELECT note FROM backup_marker WHERE note = 'only in the second'")
  t.equal(notes.length, 1)
  t.same(leftovers(join(dir, 'restored')), [], 'no temp file left')
})

t.test('download takes a bare backup name, as a user would type it', async (t) => {
  const { store, clock, dir } = await setup(t)
  await store.upload(snapshots.first)
  clock.advanceMinutes(1)
  await store.upload(snapshots.second)
  const restored = await store.download('kronus-2026-11-29T12-00-00.000Z.db', join(dir, 'kronus.db'))
  t.equal(restored.name, NAME_AT_T0)
  t.ok(readFileSync(join(dir, 'kronus.db')).equals(readFileSync(snapshots.first)))
  t.equal(statSync(join(dir, 'kronus.db')).mode & 0o777, 0o600, 'the downloaded database is owner-only')
  await store.download(NAME_AT_T0, join(dir, 'new-folder', 'kronus.db'))
  t.equal(statSync(join(dir, 'new-folder')).mode & 0o777, 0o700, 'a folder made for it is owner-only')
  t.equal(statSync(join(dir, 'new-folder', 'kronus.db')).mode & 0o777, 0o600)

  const missing = await backupError(store.download('kronus-2020-01-01T00-00-00.000Z.db', join(dir, 'other.db')))
  t.equal(missing.code, 'not-found')
  t.match(missing.message, /does not exist/)
  const nonsense = await backupError(store.download('../../etc/passwd', join(dir, 'other.db')))
  t.equal(nonsense.code, 'not-found')
  t.notOk(existsSync(join(dir, 'other.db')))
})

t.test('latest follows the pointer, and prune never deletes what it points at', async (t) => {
  const { fake, store, clock, dir } = await setup(t)
  await store.upload(snapshots.first)
  clock.advanceMinutes(1)
  await store.upload(snapshots.second)
  clock.advanceMinutes(1)
  await store.upload(snapshots.second)
  // An operator pointed latest back at the oldest backup, e.g. after a bad release.
  fake.putObject(BUCKET, 'kronus/latest', Buffer.from(`${NAME_AT_T0}\n`), 'text/plain')

  t.equal(await store.latest(), NAME_AT_T0)
  const deleted = await store.prune(1)
  t.same(deleted, ['kronus/kronus-2026-11-29T12-01-00.000Z.db'])
  t.ok(fake.object(BUCKET, NAME_AT_T0), 'the pointed-at backup survives')
  const restored = await store.downloadLatest(join(dir, 'kronus.db'))
  t.equal(restored.name, NAME_AT_T0)
})

t.test('without a pointer the newest backup is used; with no backup at all, a no-backup error', async (t) => {
  const { fake, store, clock, dir } = await setup(t)
  const none = await backupError(store.downloadLatest(join(dir, 'kronus.db')))
  t.equal(none.code, 'no-backup', 'a first start can tell "nothing to restore" from a failure')
  t.equal(none.retryable, false)
  t.match(none.message, `gs://${BUCKET}/kronus`)
  t.equal(await store.latest(), null)

  await store.upload(snapshots.first)
  clock.advanceMinutes(1)
  const newest = await store.upload(snapshots.second)
  await fake.storage().bucket(BUCKET).file('kronus/latest').delete()
  t.equal(await store.latest(), newest.name)

  fake.putObject(BUCKET, 'kronus/latest', Buffer.from('garbage'))
  const bad = await backupError(store.latest())
  t.equal(bad.code, 'bad-pointer')
  t.match(bad.message, /"garbage"/)
})

t.test('a corrupt or truncated download is refused and leaves nothing behind', async (t) => {
  const { fake, store, dir } = await setup(t)
  await store.upload(snapshots.first)
  const dest = join(dir, 'kronus.db')

  const cases: Array<[Parameters<FakeGcsApi['damageNextDownload']>[0], boolean, RegExp]> = [
    ['corrupt', false, /fail GCS's checksum/],
    ['truncate', false, /fail GCS's checksum/],
    // With checksum headers withheld the client accepts anything; the store's own checks do not.
    ['corrupt', true, /CRC32C .* GCS records/],
    ['truncate', true, /truncated, received \d+ of \d+ bytes/]
  ]
  for (const [damage, hideChecksums, message] of cases) {
    fake.damageNextDownload(damage, { hideChecksums })
    const err = await backupError(store.download(NAME_AT_T0, dest))
    t.equal(err.code, 'corrupt-transfer', `${damage}${hideChecksums ? ' without checksums' : ''} is refused`)
    t.equal(err.retryable, true, 'worth downloading again')
    t.match(err.message, message)
    t.match(err.message, NAME_AT_T0)
    t.notOk(existsSync(dest), 'the destination was never created')
    t.same(leftovers(dir), [], 'the temp file was removed')
  }

  await store.download(NAME_AT_T0, dest)
  t.ok(readFileSync(dest).equals(readFileSync(snapshots.first)), 'the next, undamaged download succeeds')
})

t.test('a connection dropped mid-download fails on the stall watchdog instead of hanging', async (t) => {
  const { fake, store, dir } = await setup(t, { stallTimeoutMs: 200 })
  await store.upload(snapshots.first)
  fake.damageNextDownload('disconnect')
  const err = await backupError(store.download(NAME_AT_T0, join(dir, 'kronus.db')))
  t.equal(err.code, 'transfer')
  t.equal(err.retryable, true)
  t.match(err.message, /stalled/)
  t.notOk(existsSync(join(dir, 'kronus.db')))
  t.same(leftovers(dir), [])
})

t.test('a backup whose stored bytes are bad is refused by verifySnapshot, never installed', async (t) => {
  const { fake, store, dir } = await setup(t)
  const truncated = join(dir, 'truncated-source.db')
  writeFileSync(truncated, readFileSync(snapshots.first))
  truncateSync(truncated, 8192)
  // Uploaded whole and consistent with its own checksums: only opening it tells.
  fake.putObject(BUCKET, NAME_AT_T0, readFileSync(truncated))
  const dest = join(dir, 'kronus.db')
  await t.rejects(store.downloadLatest(dest), SnapshotRejectedError)
  t.notOk(existsSync(dest))

  fake.putObject(BUCKET, NAME_AT_T0, Buffer.alloc(0))
  await t.rejects(store.download(NAME_AT_T0, dest), /the file is empty/)
  t.notOk(existsSync(dest), 'an empty object is never restored as an empty database')

  const otherKey = new BackupStore({
    storage: fake.storage(),
    bucket: BUCKET,
    prefix: 'kronus',
    passPhrase: 'another',
    clock: new FakeClock(T0)
  })
  fake.putObject(BUCKET, NAME_AT_T0, readFileSync(snapshots.first))
  await t.rejects(otherKey.download(NAME_AT_T0, dest), /cannot be decrypted with kronus\.sqlite\.passPhrase/)
  t.notOk(existsSync(dest))
  t.same(leftovers(dir), [])
})

t.test('a corrupted upload is refused, deleted, and latest keeps pointing at the last good backup', async (t) => {
  const { fake, store, clock } = await setup(t)
  await store.upload(snapshots.first)
  clock.advanceMinutes(1)
  fake.corruptNextUpload()
  const err = await backupError(store.upload(snapshots.second))
  t.equal(err.code, 'corrupt-transfer')
  t.equal(err.retryable, true)
  t.match(err.message, /checksum/)
  t.equal(fake.object(BUCKET, 'kronus/kronus-2026-11-29T12-01-00.000Z.db'), undefined, 'the damaged object is gone')
  t.equal(pointer(fake), NAME_AT_T0)
  t.same(
    (await store.list()).map((b) => b.name),
    [NAME_AT_T0]
  )
})

t.test('a 503 during upload surfaces as a retryable error, and retrying succeeds', async (t) => {
  const { fake, store, clock } = await setup(t)
  await store.upload(snapshots.first)
  clock.advanceMinutes(1)

  fake.failNext(1, 503, (r) => r.method === 'POST' && r.query.get('uploadType') === 'resumable')
  const atStart = await backupError(store.upload(snapshots.second))
  t.equal(atStart.code, 'transfer')
  t.equal(atStart.retryable, true)
  t.match(atStart.message, /503/)

  fake.failNext(1, 503, (r) => r.method === 'PUT')
  const midway = await backupError(store.upload(snapshots.second))
  t.equal(midway.retryable, true)
  t.match(midway.message, /503/)
  t.equal(pointer(fake), NAME_AT_T0, 'latest still names the last good backup')

  const retried = await store.upload(snapshots.second)
  t.equal(pointer(fake), retried.name)
  t.ok(fake.object(BUCKET, retried.name)!.data.equals(readFileSync(snapshots.second)))
})

t.test('a failure to move latest is reported, naming the uploaded backup', async (t) => {
  const { fake, store } = await setup(t)
  fake.failNext(1, 503, (r) => r.query.get('name') === 'kronus/latest')
  const err = await backupError(store.upload(snapshots.first))
  t.equal(err.retryable, true)
  t.match(err.message, `backup ${NAME_AT_T0} was uploaded but kronus/latest could not be pointed at it`)
  t.ok(fake.object(BUCKET, NAME_AT_T0), 'the backup itself is kept')
  t.equal(await store.latest(), NAME_AT_T0, 'restores still find it as the newest')
})

t.test('a backup is never overwritten', async (t) => {
  const { fake, store } = await setup(t)
  await store.upload(snapshots.first)
  const err = await backupError(store.upload(snapshots.second))
  t.equal(err.code, 'exists')
  t.equal(err.retryable, false)
  t.ok(fake.object(BUCKET, NAME_AT_T0)!.data.equals(readFileSync(snapshots.first)))
})

t.test('a download never replaces an existing database unless told to, and then drops its stale WAL', async (t) => {
  const { store, dir } = await setup(t)
  await store.upload(snapshots.first)
  const dest = join(dir, 'kronus.db')
  writeFileSync(dest, 'existing database')
  const err = await backupError(store.download(NAME_AT_T0, dest))
  t.equal(err.code, 'destination')
  t.equal(readFileSync(dest, 'utf8'), 'existing database')

  writeFileSync(`${dest}-wal`, 'stale wal')
  await store.download(NAME_AT_T0, dest, { overwrite: true })
  t.ok(readFileSync(dest).equals(readFileSync(snapshots.first)))
  t.notOk(existsSync(`${dest}-wal`), 'a WAL from the old database is not replayed into the restored one')

  const walOnly = join(dir, 'fresh.db')
  writeFileSync(`${walOnly}-wal`, 'orphan wal')
  t.equal((await backupError(store.download(NAME_AT_T0, walOnly))).code, 'destination')
})

t.test('prune refuses to keep fewer than one backup', async (t) => {
  const { store } = await setup(t)
  await t.rejects(store.prune(0), RangeError)
  await t.rejects(store.prune(1.5), RangeError)
})

t.test('an empty prefix keeps backups at the bucket root', async (t) => {
  const { fake, store } = await setup(t, { prefix: '' })
  const stored = await store.upload(snapshots.first)
  t.equal(stored.name, 'kronus-2026-11-29T12-00-00.000Z.db')
  t.equal(fake.object(BUCKET, 'latest')!.data.toString(), stored.name)
  t.same(
    (await store.list()).map((b) => b.name),
    [stored.name]
  )
})
