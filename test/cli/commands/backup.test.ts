import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FakeClock } from '../../../src/clock.js'
import { FakeGcsApi } from '../../fakes/gcs-api.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'
import { createAdmin, createUser } from '../../helpers/http.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { querySnapshot } from '../../plugins/gcs-backup/helpers.js'
import { runKronus } from '../run-kronus.js'

const BUCKET = 'kronus-cli-backups'
const PASS = 'cli-passphrase'
const BACKUP_NAME = /kronus-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z\.db/

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-cli-backup-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A config.yml in `dir` for its ./kronus.db and the emulator's bucket. */
function writeConfig(dir: string, google = `google:\n  storage:\n    bucket: ${BUCKET}\n    prefix: kronus\n`): void {
  writeFileSync(join(dir, 'config.yml'), `kronus:\n  sqlite:\n    passPhrase: ${PASS}\n${google}`)
}

interface Emulator {
  fake: FakeGcsApi
  run(args: string[], cwd: string): ReturnType<typeof runKronus>
}

async function emulator(t: Test): Promise<Emulator> {
  const fake = await FakeGcsApi.start({ buckets: [BUCKET] })
  t.teardown(() => fake.close())
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_GCS_API_ENDPOINT: fake.baseUrl }
  return { fake, run: (args, cwd) => runKronus([...args, '--config', 'config.yml'], { cwd, env }) }
}

/** A Kronus running in this process on `dir`/kronus.db, as a server would be during `kronus backup`. */
function runningKronus(t: Test, dir: string): Promise<TestKronus> {
  return buildKronus(t, {
    dir,
    database: 'sqlcipher',
    clock: new FakeClock(),
    config: { kronus: { sqlite: { passPhrase: PASS } } }
  })
}

function backups(fake: FakeGcsApi): string[] {
  return fake
    .objects(BUCKET)
    .map((o) => o.name)
    .filter((name) => name.startsWith('kronus/kronus-'))
}

async function emails(file: string): Promise<string[]> {
  return (await querySnapshot(file, PASS, 'SELECT email FROM users ORDER BY id')).map((row) => String(row.email))
}

t.test(
  "kronus backup uploads a snapshot of a running server's database; backup list shows it; restore brings it back",
  async (t) => {
    const gcs = await emulator(t)
    const serverDir = tempDir(t)
    writeConfig(serverDir)
    const kronus = await runningKronus(t, serverDir)
    const admin = await createAdmin(kronus)

    const backedUp = await gcs.run(['backup'], serverDir)
    t.equal(backedUp.code, 0, backedUp.stderr)
    t.match(
      backedUp.stdout,
      new RegExp(`backed up .*kronus\\.db to gs://${BUCKET}/kronus/${BACKUP_NAME.source} \\(\\d`)
    )
    t.match(backedUp.stderr, `taking a snapshot of ${join(serverDir, 'kronus.db')}`)
    t.match(
      backedUp.stderr,
      new RegExp(`uploading to gs://${BUCKET}/kronus  .* / .*  100%\\n`),
      'progress as plain lines'
    )
    t.notMatch(backedUp.stderr, /\r/, 'no carriage returns when stderr is not a terminal')

    const [first] = backups(gcs.fake)
    t.ok(first, 'one backup stored')
    t.equal(gcs.fake.object(BUCKET, 'kronus/latest')!.data.toString(), first)
    const downloaded = join(tempDir(t), 'check.db')
    writeFileSync(downloaded, gcs.fake.object(BUCKET, first!)!.data)
    t.same(
      await emails(downloaded),
      [admin.email],
      "the backup holds the running server's data, encrypted with its passphrase"
    )

    const listed = await gcs.run(['backup', 'list'], serverDir)
    t.equal(listed.code, 0, listed.stderr)
    const bare = first!.slice('kronus/'.length)
    t.match(listed.stdout, `backups in gs://${BUCKET}/kronus, newest first:\n${bare}  `)
    t.match(listed.stdout, /\(latest\)\n$/)

    const restoreDir = tempDir(t)
    writeConfig(restoreDir)
    const restored = await gcs.run(['restore'], restoreDir)
    t.equal(restored.code, 0, restored.stderr)
    t.match(restored.stdout, `restored gs://${BUCKET}/${first} (`)
    t.match(restored.stdout, /migrations, integrity checked\) to .*kronus\.db\n/)
    t.match(restored.stderr, new RegExp(`downloading ${BACKUP_NAME.source}  .*  100%\\n`))
    t.same(await emails(join(restoreDir, 'kronus.db')), [admin.email])

    const before = readFileSync(join(restoreDir, 'kronus.db'))
    const refused = await gcs.run(['restore'], restoreDir)
    t.equal(refused.code, 1)
    t.match(refused.stderr, /kronus: .*kronus\.db already exists; .* run "kronus restore --force" to replace it/)
    t.ok(readFileSync(join(restoreDir, 'kronus.db')).equals(before), 'the existing database is untouched')

    // A second backup with another user; then the first is restored by name over the newer copy.
    const admin2 = await createUser(kronus, admin)
    t.equal((await gcs.run(['backup'], serverDir)).code, 0)
    t.equal(backups(gcs.fake).length, 2)
    t.equal((await gcs.run(['restore', '--force'], restoreDir)).code, 0)
    t.same(await emails(join(restoreDir, 'kronus.db')), [admin.email, admin2.email], 'restore takes the latest')
    const byName = await gcs.run(['restore', '--from', bare, '--force'], restoreDir)
    t.equal(byName.code, 0, byName.stderr)
    t.same(await emails(join(restoreDir, 'kronus.db')), [admin.email], '--from restores that backup')
    t.same(
      readdirSync(restoreDir).filter((f) => f.startsWith('.')),
      [],
      'no temp file left'
    )
  }
)

t.test('kronus restore refuses a corrupt backup and an unknown name, and creates nothing', async (t) => {
  const gcs = await emulator(t)
  const serverDir = tempDir(t)
  writeConfig(serverDir)
  const kronus = await runningKronus(t, serverDir)
  await createAdmin(kronus)
  t.equal((await gcs.run(['backup'], serverDir)).code, 0)
  const [name] = backups(gcs.fake)
  gcs.fake.putObject(BUCKET, name!, gcs.fake.object(BUCKET, name!)!.data.subarray(0, 4096))

  const restoreDir = tempDir(t)
  writeConfig(restoreDir)
  const corrupt = await gcs.run(['restore'], restoreDir)
  t.equal(corrupt.code, 1)
  t.match(corrupt.stderr, /kronus: refusing backup .*: it is corrupt or truncated/)

  const unknown = await gcs.run(['restore', '--from', 'kronus-2020-01-01T00-00-00.000Z.db'], restoreDir)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, `kronus: backup kronus/kronus-2020-01-01T00-00-00.000Z.db does not exist in gs://${BUCKET}`)
  t.same(readdirSync(restoreDir), ['config.yml'], 'no database and no temp file')
})

t.test('the commands fail with a clear message and exit 1 when they cannot work', async (t) => {
  const gcs = await emulator(t)
  const dir = tempDir(t)
  writeConfig(dir)

  const empty = await gcs.run(['backup', 'list'], dir)
  t.equal(empty.code, 0)
  t.equal(empty.stdout, `no backups in gs://${BUCKET}/kronus\n`)
  const nothingToRestore = await gcs.run(['restore'], dir)
  t.equal(nothingToRestore.code, 1)
  t.match(nothingToRestore.stderr, `kronus: there is no backup in gs://${BUCKET}/kronus to restore`)

  const noDatabase = await gcs.run(['backup'], dir)
  t.equal(noDatabase.code, 1)
  t.match(noDatabase.stderr, `kronus: there is no database at ${join(dir, 'kronus.db')} to back up`)
  t.notOk(existsSync(join(dir, 'kronus.db')), 'no empty database was created to back up')

  writeConfig(dir, '')
  const noBucket = await gcs.run(['backup'], dir)
  t.equal(noBucket.code, 1)
  t.match(noBucket.stderr, 'kronus: google.storage.bucket is not set')

  writeConfig(dir, 'google:\n  storage:\n    bucket: no-such-bucket\n')
  const missingBucket = await gcs.run(['backup', 'list'], dir)
  t.equal(missingBucket.code, 1)
  t.match(missingBucket.stderr, /kronus: listing backups in gs:\/\/no-such-bucket\/kronus failed: .*404/)
})
