import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { FakeClock } from '../../../src/clock.js'
import { FakeGcsApi } from '../../fakes/gcs-api.js'
import { buildKronus } from '../../helpers/app.js'
import { createAdmin } from '../../helpers/http.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { querySnapshot } from '../../plugins/gcs-backup/helpers.js'
import { freePort, HANG_MS, runKronus, startKronus, waitForHealth, within } from '../run-kronus.js'

const BUCKET = 'kronus-server-backups'
const PASS = 'server-passphrase'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-server-backup-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The first Kronus's config.yml shape, with sync on: no plugin list, so `kronus server` adds gcs-backup itself. */
function writeConfig(dir: string): void {
  writeFileSync(
    join(dir, 'config.yml'),
    `kronus:\n  sqlite:\n    passPhrase: ${PASS}\ngoogle:\n  storage:\n    bucket: ${BUCKET}\n    prefix: kronus\n    enableSqliteBackupAndSync: true\n`
  )
}

interface Setup {
  fake: FakeGcsApi
  env: Record<string, string>
  adminEmail: string
}

/** One backup of a Kronus with an admin, taken with `kronus backup`. */
async function backedUp(t: Test): Promise<Setup> {
  const fake = await FakeGcsApi.start({ buckets: [BUCKET] })
  t.teardown(() => fake.close())
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_GCS_API_ENDPOINT: fake.baseUrl }
  const dir = tempDir(t)
  writeConfig(dir)
  const kronus = await buildKronus(t, {
    dir,
    database: 'sqlcipher',
    clock: new FakeClock(),
    config: { kronus: { sqlite: { passPhrase: PASS } } }
  })
  const admin = await createAdmin(kronus)
  await kronus.stop()
  const backup = await runKronus(['backup', '--config', 'config.yml'], { cwd: dir, env })
  t.equal(backup.code, 0, backup.stderr)
  return { fake, env, adminEmail: admin.email }
}

function backups(fake: FakeGcsApi): string[] {
  return fake
    .objects(BUCKET)
    .map((o) => o.name)
    .filter((name) => name.startsWith('kronus/kronus-'))
}

t.test(
  'kronus server with sync on and no database restores the latest backup, and backs up again when it stops',
  async (t) => {
    const { fake, env, adminEmail } = await backedUp(t)
    const dir = tempDir(t)
    writeConfig(dir)
    const port = await freePort()
    const run = startKronus(['server', '--config', 'config.yml'], {
      cwd: dir,
      env: { ...env, KRONUS_PORT: String(port) }
    })
    t.teardown(() => run.child.kill('SIGKILL'))
    await waitForHealth(run, port)
    const users = await fetch(`http://127.0.0.1:${port}/v1/users`, { headers: { authorization: 'Bearer nothing' } })
    t.equal(users.status, 401, 'serving requests')
    t.match(run.stdout() + run.stderr(), /restored .*kronus\.db from kronus\/kronus-/)

    run.child.kill('SIGTERM')
    t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
    t.equal(backups(fake).length, 2, 'a backup was taken at shutdown')
    t.same(
      (await querySnapshot(join(dir, 'kronus.db'), PASS, 'SELECT email FROM users')).map((row) => row.email),
      [adminEmail],
      'the restored database holds the backed-up users'
    )
  }
)

t.test('kronus server refuses to start on a corrupt latest backup, exits 1, and creates no database', async (t) => {
  const { fake, env } = await backedUp(t)
  const [name] = backups(fake)
  fake.putObject(BUCKET, name!, fake.object(BUCKET, name!)!.data.subarray(0, 10_000))
  const dir = tempDir(t)
  writeConfig(dir)
  const port = await freePort()
  const run = await runKronus(['server', '--config', 'config.yml'], {
    cwd: dir,
    env: { ...env, KRONUS_PORT: String(port) }
  })
  t.equal(run.code, 1)
  t.match(
    run.stderr,
    /kronus: plugin "gcs-backup" failed before the database was opened: .*kronus\.db does not exist and backup kronus\/kronus-.* could not be restored/
  )
  t.match(run.stderr, /refused: it is truncated/)
  t.notOk(existsSync(join(dir, 'kronus.db')))
  t.same(readdirSync(dir), ['config.yml'], 'nothing but the configuration')
})
