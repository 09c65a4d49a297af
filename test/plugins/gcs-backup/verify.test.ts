import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { takeSnapshot } from '../../../plugins/gcs-backup/snapshot.js'
import { SnapshotRejectedError, verifySnapshot } from '../../../plugins/gcs-backup/verify.js'
import { buildKronus, TEST_SQLCIPHER_KEY } from '../../helpers/app.js'
import { createDatabase, tempDir } from './helpers.js'

// The key buildKronus gives its databases.
const PASS = TEST_SQLCIPHER_KEY

async function goodSnapshot(t: Test): Promise<{ file: string; dir: string }> {
  const kronus = await buildKronus(t)
  const dir = tempDir(t)
  const file = join(dir, 'good.db')
  await takeSnapshot(kronus.knex, file)
  return { file, dir }
}

async function rejection(t: Test, file: string, passPhrase: string, reason: RegExp): Promise<void> {
  const err = await verifySnapshot(file, passPhrase).then(
    () => null,
    (e: unknown) => e
  )
  t.type(err, SnapshotRejectedError, 'rejected as an unusable snapshot')
  t.match((err as Error).message, reason)
  t.match((err as Error).message, file, 'the message names the file')
}

t.test('an intact snapshot is accepted', async (t) => {
  const { file } = await goodSnapshot(t)
  const verified = await verifySnapshot(file, PASS)
  t.equal(verified.bytes, statSync(file).size)
  t.ok(verified.migrations >= 1)
})

t.test('a missing file is refused and not created', async (t) => {
  const file = join(tempDir(t), 'absent.db')
  await rejection(t, file, PASS, /does not exist/)
  t.notOk(existsSync(file), 'verifying did not create an empty database')
})

t.test('a zero-byte file is refused rather than opened as an empty database', async (t) => {
  const file = join(tempDir(t), 'empty.db')
  writeFileSync(file, '')
  await rejection(t, file, PASS, /is empty/)
})

t.test('a file cut mid-page is refused as truncated', async (t) => {
  const { file } = await goodSnapshot(t)
  truncateSync(file, statSync(file).size - 1000)
  await rejection(t, file, PASS, /truncated/)
})

t.test('a file cut on a page boundary is refused', async (t) => {
  const { file } = await goodSnapshot(t)
  const pages = statSync(file).size / 4096
  t.ok(pages >= 4, `the snapshot has enough pages to cut (${pages})`)
  truncateSync(file, Math.floor(pages / 2) * 4096)
  await rejection(t, file, PASS, /corrupt|integrity_check/)
})

t.test('a flipped byte inside the file is refused', async (t) => {
  const { file } = await goodSnapshot(t)
  const bytes = readFileSync(file)
  const at = 4096 + 1234
  bytes[at] = bytes[at]! ^ 0xff
  writeFileSync(file, bytes)
  await rejection(t, file, PASS, /corrupt|integrity_check/)
})

t.test('a flipped byte in the first page is refused', async (t) => {
  const { file } = await goodSnapshot(t)
  const bytes = readFileSync(file)
  bytes[100] = bytes[100]! ^ 0x01
  writeFileSync(file, bytes)
  await rejection(t, file, PASS, /cannot be decrypted|corrupt/)
})

t.test('the wrong passphrase is refused', async (t) => {
  const { file } = await goodSnapshot(t)
  await rejection(t, file, 'not-the-passphrase', /cannot be decrypted with kronus\.sqlite\.passPhrase/)
  await rejection(t, file, '', /passPhrase is empty/)
})

t.test('a plain SQLite file is refused as unencrypted', async (t) => {
  const file = join(tempDir(t), 'plain.db')
  await createDatabase(file, null, [
    'CREATE TABLE knex_migrations (id INTEGER PRIMARY KEY, name TEXT)',
    "INSERT INTO knex_migrations (name) VALUES ('x')"
  ])
  await rejection(t, file, PASS, /unencrypted/)
})

t.test('an encrypted database that is not Kronus is refused', async (t) => {
  const file = join(tempDir(t), 'other.db')
  await createDatabase(file, PASS, ['CREATE TABLE notes (body TEXT)', "INSERT INTO notes VALUES ('hello')"])
  await rejection(t, file, PASS, /not a Kronus database: it has no knex_migrations table/)
})

t.test('a non-database file is refused', async (t) => {
  const file = join(tempDir(t), 'noise.db')
  writeFileSync(file, Buffer.alloc(8192, 7))
  await rejection(t, file, PASS, /cannot be decrypted/)
})
