import { copyFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { Knex } from 'knex'
import t from 'tap'
import { takeSnapshot } from '../../../plugins/gcs-backup/snapshot.js'
import { verifySnapshot } from '../../../plugins/gcs-backup/verify.js'
import { buildKronus, TEST_SQLCIPHER_KEY } from '../../helpers/app.js'
import { querySnapshot, querySnapshotWithoutKey, tempDir } from './helpers.js'

const PLAIN_SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

t.test('a snapshot stays encrypted with the live passphrase', async (t) => {
  const kronus = await buildKronus(t, { config: { kronus: { sqlite: { passPhrase: 'correct horse' } } } })
  const dest = join(tempDir(t), 'snap.db')
  const snapshot = await takeSnapshot(kronus.knex, dest)

  t.equal(snapshot.file, dest)
  t.ok(snapshot.bytes > 0)
  t.equal(statSync(dest).mode & 0o777, 0o600, 'only the owner may read the copy')
  const bytes = readFileSync(dest)
  t.notOk(bytes.subarray(0, 16).equals(PLAIN_SQLITE_HEADER), 'no plaintext SQLite header')
  t.equal(bytes.indexOf(Buffer.from('knex_migrations')), -1, 'table names do not appear in the clear')

  await t.rejects(querySnapshot(dest, 'wrong horse', 'SELECT count(*) AS n FROM sqlite_master'), /not a database/)
  const live = await kronus.knex('knex_migrations').count({ n: '*' })
  const copied = await querySnapshot(dest, 'correct horse', 'SELECT count(*) AS n FROM knex_migrations')
  t.equal(Number(copied[0]!.n), Number(live[0]!.n), 'readable with the key, same migrations')
  const verified = await verifySnapshot(dest, 'correct horse')
  t.equal(verified.migrations, Number(live[0]!.n))
})

t.test('a snapshot cannot be read without any key', async (t) => {
  const kronus = await buildKronus(t)
  const dest = join(tempDir(t), 'snap.db')
  await takeSnapshot(kronus.knex, dest)
  await t.rejects(querySnapshotWithoutKey(dest, 'SELECT count(*) AS n FROM sqlite_master'), /not a database/)
})

interface WriterState {
  /** Single rows and two-row transactions, counted once their commit resolved. */
  committedRows: number
  stop: boolean
}

/** Several writers inserting through the same knex the snapshot uses, as Kronus would. */
async function writer(knex: Knex, state: WriterState, writerId: number): Promise<number> {
  let written = 0
  while (!state.stop) {
    if (written % 3 === 2) {
      await knex.transaction(async (trx) => {
        await trx('snapshot_rows').insert({ writer: writerId, seq: written, pair: 1 })
        await trx('snapshot_rows').insert({ writer: writerId, seq: written, pair: 2 })
      })
      state.committedRows += 2
    } else {
      await knex('snapshot_rows').insert({ writer: writerId, seq: written, pair: 0 })
      state.committedRows += 1
    }
    written++
  }
  return written
}

async function rowsUntil(state: WriterState, count: number): Promise<void> {
  while (state.committedRows < count) await new Promise((resolve) => setImmediate(resolve))
}

t.test('a snapshot under concurrent writes holds every row committed before it and no torn transaction', async (t) => {
  const kronus = await buildKronus(t)
  const { knex } = kronus
  await knex.schema.createTable('snapshot_rows', (table) => {
    table.increments('id')
    table.integer('writer').notNullable()
    table.integer('seq').notNullable()
    table.integer('pair').notNullable()
  })
  const dest = join(tempDir(t), 'snap.db')
  const state: WriterState = { committedRows: 0, stop: false }
  const writers = [1, 2, 3].map((id) => writer(knex, state, id))

  await rowsUntil(state, 150)
  const committedBefore = await knex('snapshot_rows').select('id')
  const idsBefore = committedBefore.map((row: { id: number }) => row.id)
  const snapshotting = takeSnapshot(knex, dest)
  const rowsWhenRequested = state.committedRows
  await snapshotting
  const rowsWhenDone = state.committedRows
  // Keep writing after the snapshot, to show it froze one moment rather than the end state.
  await rowsUntil(state, rowsWhenDone + 30)
  state.stop = true
  await Promise.all(writers)

  t.ok(rowsWhenDone > rowsWhenRequested, 'writers kept committing while the snapshot was in flight')
  const verified = await verifySnapshot(dest, TEST_SQLCIPHER_KEY)
  t.ok(verified.migrations > 0, 'passes integrity_check and is a Kronus database')

  const restored = await querySnapshot(
    dest,
    TEST_SQLCIPHER_KEY,
    'SELECT id, writer, seq, pair FROM snapshot_rows ORDER BY id'
  )
  const restoredIds = new Set(restored.map((row) => Number(row.id)))
  const missing = idsBefore.filter((id: number) => !restoredIds.has(id))
  t.same(missing, [], 'every row committed before the snapshot started is in it')
  const liveCount = Number((await knex('snapshot_rows').count({ n: '*' }))[0]!.n)
  t.ok(restored.length < liveCount, `later writes are not in it (${restored.length} of ${liveCount})`)

  const pairs = new Map<string, number>()
  for (const row of restored) {
    if (Number(row.pair) === 0) continue
    const key = `${row.writer}/${row.seq}`
    pairs.set(key, (pairs.get(key) ?? 0) + 1)
  }
  t.ok(pairs.size > 0, 'transactions were written')
  t.same(
    [...pairs.values()].filter((n) => n !== 2),
    [],
    'no transaction is half in the snapshot'
  )
})

t.test('a snapshot restores into a Kronus that starts on it', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.knex.schema.createTable('restored_marker', (table) => table.string('note'))
  await kronus.knex('restored_marker').insert({ note: 'before the backup' })
  const dest = join(tempDir(t), 'snap.db')
  await takeSnapshot(kronus.knex, dest)

  const dir = tempDir(t, 'kronus-restored-')
  copyFileSync(dest, join(dir, 'kronus.db'))
  const restored = await buildKronus(t, { dir })
  t.same(await restored.knex('restored_marker').select('note'), [{ note: 'before the backup' }])
})

t.test('a snapshot never overwrites a file and leaves nothing behind when it fails', async (t) => {
  const kronus = await buildKronus(t)
  const dir = tempDir(t)
  const dest = join(dir, 'snap.db')
  await takeSnapshot(kronus.knex, dest)
  const first = readFileSync(dest)
  await t.rejects(takeSnapshot(kronus.knex, dest), /already exists/)
  t.ok(readFileSync(dest).equals(first), 'the existing file is untouched')

  await t.rejects(takeSnapshot(kronus.knex, join(dir, 'no-such-folder', 'snap.db')))
  t.same(readdirSync(dir), ['snap.db'], 'no partial file left')
  t.notOk(existsSync(join(dir, 'no-such-folder')))
})
