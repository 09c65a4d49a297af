import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { createKronus } from '../../src/app.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { TEST_SQLCIPHER_KEY } from '../helpers/app.js'
import { createAdmin } from '../helpers/http.js'
import { testPrivateKeyPem } from '../helpers/keys.js'

/*
 * The SQLCipher files hold everyone's phone numbers: whatever the umask, Kronus creates
 * them owner-only, in an owner-only folder, and says at start where they are. Files only
 * SQLCipher has, so these run on it whatever KRONUS_TEST_DB says.
 */

const mode = (path: string) => statSync(path).mode & 0o777

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-modes-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function startKronus(t: { teardown(fn: () => unknown): void }, dataDir: string, lines: string[] = []) {
  const config = resolveConfig({
    dataDir,
    kronus: {
      privateKeyPem: testPrivateKeyPem(),
      sqlite: { passPhrase: TEST_SQLCIPHER_KEY },
      listener: { port: 0, host: '127.0.0.1' }
    },
    database: { client: 'sqlcipher' }
  })
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n'))
      done()
    }
  })
  const kronus = await createKronus({ config, logger: pino({ level: 'info' }, sink), documentation: false })
  t.teardown(() => kronus.stop())
  return kronus
}

t.test(
  'a new database and its WAL and shared-memory files are 0600 in a 0700 folder, even with umask 000',
  async (t) => {
    const previous = process.umask(0)
    t.teardown(() => process.umask(previous))
    const dataDir = join(tempDir(t), 'data', 'kronus')
    const kronus = await startKronus(t, dataDir)
    await createAdmin(kronus)
    t.equal(mode(dataDir), 0o700, 'the data folder')
    t.equal(mode(join(dataDir, '..')), 0o700, 'a missing parent made for it too')
    for (const file of ['kronus.db', 'kronus.db-wal', 'kronus.db-shm']) t.equal(mode(join(dataDir, file)), 0o600, file)
  }
)

t.test('files an earlier version left readable are tightened at start', async (t) => {
  const dataDir = join(tempDir(t), 'data')
  const first = await startKronus(t, dataDir)
  await createAdmin(first)
  await first.stop()
  chmodSync(join(dataDir, 'kronus.db'), 0o644)
  await startKronus(t, dataDir)
  t.equal(mode(join(dataDir, 'kronus.db')), 0o600)
})

t.test('the database path is logged at start, and a folder others can reach is warned about', async (t) => {
  const dataDir = join(tempDir(t), 'shared')
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o755)
  const lines: string[] = []
  await startKronus(t, dataDir, lines)
  const logged = lines.map((line) => JSON.parse(line))
  const database = logged.find((entry) => entry.database !== undefined)
  t.equal(database?.database, join(dataDir, 'kronus.db'))
  t.match(database?.msg, /the default: kronus\.db in the folder Kronus started in; set database\.filename to move it/)
  const warning = logged.find((entry) => entry.directory === dataDir)
  t.equal(warning?.level, 40, 'a warning')
  t.match(warning?.msg, /open to other users of this machine.*chmod 700/)
  t.equal(mode(dataDir), 0o755, "an existing folder is not changed behind the owner's back")
})
