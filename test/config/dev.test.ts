import { createPrivateKey } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  DEV_PASSPHRASE_FILE,
  DEV_PRIVATE_KEY_FILE,
  DEV_TWILIO_AUTH_TOKEN_FILE,
  devModeWarning
} from '../../src/config/dev.js'
import { loadConfig } from '../../src/config/load.js'
import { testPrivateKeyPem } from '../helpers/keys.js'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-dev-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('--dev needs no file and generates its secrets once, owner-only', async (t) => {
  const cwd = tempDir(t)
  const first = await loadConfig({ dev: true, cwd, env: {} })
  const keyFile = join(cwd, 'dev', DEV_PRIVATE_KEY_FILE)
  const passFile = join(cwd, 'dev', DEV_PASSPHRASE_FILE)
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'key file is 0600')
  t.equal(statSync(passFile).mode & 0o777, 0o600, 'passphrase file is 0600')
  const key = createPrivateKey(first.kronus.privateKeyPem)
  t.equal(key.asymmetricKeyType, 'rsa')
  t.equal(key.asymmetricKeyDetails?.modulusLength, 2048)
  t.match(readFileSync(keyFile, 'utf8'), /^-----BEGIN PRIVATE KEY-----/, 'PKCS#8 PEM')
  t.ok(first.kronus.sqlite.passPhrase.length >= 32, 'a long random passphrase')

  const second = await loadConfig({ dev: true, cwd, env: {} })
  t.equal(second.kronus.privateKeyPem, first.kronus.privateKeyPem, 'the key is reused')
  t.equal(second.kronus.sqlite.passPhrase, first.kronus.sqlite.passPhrase, 'the passphrase is reused')

  const elsewhere = await loadConfig({ dev: true, cwd: tempDir(t), env: {} })
  t.not(elsewhere.kronus.sqlite.passPhrase, first.kronus.sqlite.passPhrase, 'another folder gets its own secrets')
})

t.test('dev behaviours', async (t) => {
  const cwd = tempDir(t)
  const config = await loadConfig({ dev: true, cwd, env: {} })
  t.equal(config.dev, true)
  t.equal(config.dataDir, join(cwd, 'dev'))
  t.equal(config.database.filename, join(cwd, 'dev', 'kronus.db'), 'data under ./dev')
  t.equal(config.google.storage.enableSqliteBackupAndSync, false, 'backups off')
  t.equal(config.logging.pretty, true, 'readable logs')
  t.equal(config.kronus.listener.host, '127.0.0.1', 'reachable from this machine only')
  t.equal(config.kronus.listener.port, 3900)
  t.equal(config.kronus.publicUrl, 'http://localhost:3900')
  t.equal(statSync(join(cwd, 'dev')).mode & 0o777, 0o700)
})

t.test('KRONUS_PORT applies in dev mode too', async (t) => {
  const config = await loadConfig({ dev: true, cwd: tempDir(t), env: { KRONUS_PORT: '4555' } })
  t.equal(config.kronus.listener.port, 4555)
  t.equal(config.kronus.publicUrl, 'http://localhost:4555')
})

t.test('--dev --config uses the file and keeps the dev behaviours', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  cron:\n    timeZone: Europe/Paris\n  sqlite:\n    passPhrase: from-file\ngoogle:\n  storage:\n    bucket: real-bucket\n    enableSqliteBackupAndSync: true\nlogging:\n  pretty: false\n'
  )
  const config = await loadConfig({ file: 'config.yml', dev: true, cwd, env: {} })
  t.equal(config.dev, true)
  t.equal(config.kronus.cron.timeZone, 'Europe/Paris', 'file values are used')
  t.equal(config.kronus.sqlite.passPhrase, 'from-file', 'a secret in the file wins over a dev secret')
  t.throws(
    () => statSync(join(cwd, 'dev', DEV_PASSPHRASE_FILE)),
    { code: 'ENOENT' },
    'no passphrase is generated when the file has one'
  )
  createPrivateKey(config.kronus.privateKeyPem)
  t.ok(statSync(join(cwd, 'dev', DEV_PRIVATE_KEY_FILE)).isFile(), 'the missing key is generated')
  t.equal(config.google.storage.enableSqliteBackupAndSync, false, 'backups stay off even when the file turns them on')
  t.equal(config.logging.pretty, false, 'the file may still choose plain logs')
  t.equal(config.database.filename, join(cwd, 'dev', 'kronus.db'))
})

t.test('a secret from the environment wins over a dev secret', async (t) => {
  const cwd = tempDir(t)
  const pem = testPrivateKeyPem()
  const config = await loadConfig({ dev: true, cwd, env: { KRONUS_PRIVATE_KEY_PEM: pem } })
  t.equal(config.kronus.privateKeyPem, pem.trim())
  t.throws(() => statSync(join(cwd, 'dev', DEV_PRIVATE_KEY_FILE)), { code: 'ENOENT' })
})

t.test('dev mode signs Twilio webhooks with a token of its own in ./dev, unless one is configured', async (t) => {
  const cwd = tempDir(t)
  const first = await loadConfig({ dev: true, cwd, env: {} })
  const tokenFile = join(cwd, 'dev', DEV_TWILIO_AUTH_TOKEN_FILE)
  t.equal(first.twilio.authToken, readFileSync(tokenFile, 'utf8'), 'generated into ./dev')
  t.equal(statSync(tokenFile).mode & 0o777, 0o600)
  t.ok(first.twilio.authToken!.length >= 32, 'a long random token')
  t.equal((await loadConfig({ dev: true, cwd, env: {} })).twilio.authToken, first.twilio.authToken, 'reused')
  const configured = await loadConfig({ dev: true, cwd, env: { TWILIO_AUTH_TOKEN: 'from-the-environment' } })
  t.equal(configured.twilio.authToken, 'from-the-environment')
  writeFileSync(join(cwd, 'c.yml'), 'kronus:\n  publicUrl: "https://kronus.example"\n')
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  const production = await loadConfig({ file: 'c.yml', dev: false, cwd, env })
  t.equal(production.twilio.authToken, undefined, 'outside dev mode the dev token is never used')
})

t.test('a loosened secret file is tightened back to 0600', async (t) => {
  const cwd = tempDir(t)
  await loadConfig({ dev: true, cwd, env: {} })
  const passFile = join(cwd, 'dev', DEV_PASSPHRASE_FILE)
  chmodSync(passFile, 0o644)
  await loadConfig({ dev: true, cwd, env: {} })
  t.equal(statSync(passFile).mode & 0o777, 0o600)
})

t.test('a damaged dev secret is reported with its file, not replaced', async (t) => {
  const cwd = tempDir(t)
  mkdirSync(join(cwd, 'dev'))
  writeFileSync(join(cwd, 'dev', DEV_PRIVATE_KEY_FILE), 'garbage', { mode: 0o600 })
  await t.rejects(loadConfig({ dev: true, cwd, env: {} }), {
    name: 'ConfigError',
    message: /private-key\.pem is not a valid private key/
  })
  t.equal(readFileSync(join(cwd, 'dev', DEV_PRIVATE_KEY_FILE), 'utf8'), 'garbage')
  writeFileSync(join(cwd, 'dev', DEV_PRIVATE_KEY_FILE), testPrivateKeyPem())
  writeFileSync(join(cwd, 'dev', DEV_PASSPHRASE_FILE), '\n', { mode: 0o600 })
  await t.rejects(loadConfig({ dev: true, cwd, env: {} }), {
    name: 'ConfigError',
    message: /sqlite-passphrase is empty/
  })
})

t.test('the warning is loud and says not to use dev mode for real people', async (t) => {
  const config = await loadConfig({ dev: true, cwd: tempDir(t), env: {} })
  const warning = devModeWarning(config)
  t.ok(warning.split('\n').length >= 5, 'several lines')
  t.match(warning, /DEVELOPMENT MODE/)
  t.match(warning, /DO NOT USE IT FOR REAL PEOPLE/)
  t.match(warning, /printed to stdout/)
  t.ok(warning.includes(config.dataDir))
})
