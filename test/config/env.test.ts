import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { applyPortEnv, applySecretEnv, SECRET_ENV_VARS } from '../../src/config/env.js'
import { getAt } from '../../src/config/key-path.js'

t.test('each secret variable fills its key when the file has none', async (t) => {
  for (const { name, path } of SECRET_ENV_VARS) {
    const sources = new Map<string, string>()
    const out = applySecretEnv({}, { [name]: `from-${name}` }, '/', sources)
    t.equal(getAt(out, path), `from-${name}`, name)
    t.equal(sources.get(path.join('.')), name, `${name} is recorded as the source`)
  }
})

t.test('a value in the file wins over the environment', async (t) => {
  const sources = new Map<string, string>()
  const input = { kronus: { sqlite: { passPhrase: 'from-file' } }, twilio: { authToken: 'file-token' } }
  const out = applySecretEnv(
    input,
    { KRONUS_SQLITE_PASSPHRASE: 'from-env', TWILIO_AUTH_TOKEN: 'env-token', TWILIO_ACCOUNT_SID: 'env-sid' },
    '/',
    sources
  )
  t.equal(out.kronus?.sqlite?.passPhrase, 'from-file')
  t.equal(out.twilio?.authToken, 'file-token')
  t.equal(out.twilio?.accountSid, 'env-sid', 'the environment still fills what the file leaves out')
  t.notOk(sources.has('kronus.sqlite.passPhrase'))
})

t.test('blank variables are ignored', async (t) => {
  t.same(applySecretEnv({}, { KRONUS_SQLITE_PASSPHRASE: '', TWILIO_AUTH_TOKEN: '   ' }, '/', new Map()), {})
})

t.test('KRONUS_PRIVATE_KEY_FILE reads the key from a file, relative to the working folder', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-env-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'key.pem'), 'PEM TEXT')
  const sources = new Map<string, string>()
  const out = applySecretEnv({}, { KRONUS_PRIVATE_KEY_FILE: 'key.pem' }, dir, sources)
  t.equal(out.kronus?.privateKeyPem, 'PEM TEXT')
  t.match(sources.get('kronus.privateKeyPem'), /^KRONUS_PRIVATE_KEY_FILE/)
  const both = applySecretEnv(
    {},
    { KRONUS_PRIVATE_KEY_PEM: 'INLINE', KRONUS_PRIVATE_KEY_FILE: 'key.pem' },
    dir,
    new Map()
  )
  t.equal(both.kronus?.privateKeyPem, 'INLINE', 'KRONUS_PRIVATE_KEY_PEM comes first')
  t.throws(() => applySecretEnv({}, { KRONUS_PRIVATE_KEY_FILE: 'missing.pem' }, dir, new Map()), {
    name: 'ConfigError',
    message: /KRONUS_PRIVATE_KEY_FILE: cannot read .*missing\.pem/
  })
})

t.test('KRONUS_DATABASE_URL means PostgreSQL unless the file chose a client', async (t) => {
  const out = applySecretEnv({}, { KRONUS_DATABASE_URL: 'postgres://db/kronus' }, '/', new Map())
  t.same(out.database, { connection: 'postgres://db/kronus', client: 'postgres' })
  const chosen = applySecretEnv(
    { database: { client: 'sqlcipher' } },
    { KRONUS_DATABASE_URL: 'postgres://db/kronus' },
    '/',
    new Map()
  )
  t.equal(chosen.database?.client, 'sqlcipher')
})

t.test('KRONUS_PORT always wins', async (t) => {
  const sources = new Map<string, string>()
  const out = applyPortEnv({ kronus: { listener: { port: 3900 } } }, { KRONUS_PORT: ' 4100 ' }, sources)
  t.equal(out.kronus?.listener?.port, 4100)
  t.equal(sources.get('kronus.listener.port'), 'KRONUS_PORT')
  t.same(
    applyPortEnv({ kronus: { listener: { port: 3900 } } }, {}, new Map()),
    { kronus: { listener: { port: 3900 } } },
    'unset leaves the file alone'
  )
})

t.test('a bad KRONUS_PORT is an error naming it', async (t) => {
  for (const bad of ['abc', '-1', '65536', '39.5', '0x10', '80 81']) {
    t.throws(
      () => applyPortEnv({}, { KRONUS_PORT: bad }, new Map()),
      { name: 'ConfigError', message: /KRONUS_PORT must be a whole number from 0 to 65535/ },
      bad
    )
  }
})
