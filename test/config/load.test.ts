import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { builtinPlugins } from '../../plugins/index.js'
import { loadConfig, readConfigFile } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/resolve.js'
import { EXAMPLE_CONFIG_YML, FILLED_TWILIO, filledExampleConfig } from '../helpers/example-config.js'
import { testPrivateKeyPem } from '../helpers/keys.js'
import { SEED_CONFIG_WITH_EMPTY_VALUES_YML, SEED_CONFIG_YML, seedConfigWithKey } from './seed-config.js'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

function tempDir(t: { teardown(fn: () => void): void }, packageType?: 'module' | 'commonjs'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-load-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  if (packageType) writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: packageType }))
  return dir
}

const MODULE_SOURCE = `
const port: number = 4001
export default {
  kronus: { publicUrl: 'https://kronus.example', listener: { port }, cron: { timeZone: 'Asia/Tokyo' } },
  twilio: { accountSid: 'AC-from-module' }
}
`

t.test('loads every module format through its default export', async (t) => {
  const pem = testPrivateKeyPem()
  const env = { KRONUS_PRIVATE_KEY_PEM: pem, KRONUS_SQLITE_PASSPHRASE: 'p' }
  const js = MODULE_SOURCE.replace(': number', '')
  const cases: Array<[string, string, 'module' | 'commonjs' | undefined]> = [
    ['kronus.config.ts', MODULE_SOURCE, undefined],
    ['kronus.config.ts', MODULE_SOURCE, 'module'],
    ['kronus.config.mts', MODULE_SOURCE, undefined],
    ['kronus.config.js', js, 'module'],
    ['kronus.config.js', js, undefined],
    ['kronus.config.mjs', js, undefined]
  ]
  for (const [name, source, packageType] of cases) {
    const cwd = tempDir(t, packageType)
    writeFileSync(join(cwd, name), source)
    const config = await loadConfig({ file: name, dev: false, cwd, env })
    const label = `${name} (package type ${packageType ?? 'none'})`
    t.equal(config.kronus.listener.port, 4001, label)
    t.equal(config.kronus.cron.timeZone, 'Asia/Tokyo', label)
    t.equal(config.twilio.accountSid, 'AC-from-module', label)
  }
})

t.test('loads a CommonJS module.exports configuration', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'c.js'), 'module.exports = { kronus: { listener: { port: 4002 } } }\n')
  t.same(await readConfigFile(join(cwd, 'c.js')), { kronus: { listener: { port: 4002 } } })
})

t.test('loads YAML from .yml and .yaml', async (t) => {
  for (const name of ['config.yml', 'config.yaml']) {
    const cwd = tempDir(t)
    writeFileSync(join(cwd, name), 'kronus:\n  listener:\n    port: 4003\n  sqlite:\n    passPhrase: p\n')
    const config = await loadConfig({
      file: name,
      dev: false,
      cwd,
      env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
    })
    t.equal(config.kronus.listener.port, 4003, name)
  }
})

t.test("the first Kronus's config.yml keeps every key's meaning", async (t) => {
  const cwd = tempDir(t)
  const pem = testPrivateKeyPem()
  writeFileSync(join(cwd, 'config.yml'), seedConfigWithKey(pem))
  const config = await loadConfig({ file: 'config.yml', dev: false, cwd, env: {} })
  t.equal(config.kronus.privateKeyPem, pem.trim())
  t.equal(config.kronus.publicUrl, 'https://my-app.com')
  t.equal(config.kronus.cron.timeZone, 'America/Toronto')
  t.equal(config.kronus.listener.port, 3900)
  t.equal(config.kronus.sqlite.passPhrase, 'passphrase')
  t.equal(config.google.storage.bucket, 'gstorage-bucket-name')
  t.equal(config.google.storage.prefix, 'kronus')
  t.equal(config.google.storage.sqliteBackupSchedule, '0 * * * *')
  t.equal(config.google.storage.enableSqliteBackupAndSync, true)
  t.equal(config.google.applicationCredentials, '/path/to/google/credentials')
  t.equal(config.twilio.accountSid, 'AHKX00SXXXXXXXXXXXXXXXXXXX')
  t.equal(config.twilio.authToken, 'BHKX00SXXXXXXXXXXXXXXXXXXX')
  t.equal(config.twilio.messagingServiceSid, 'CHKX00SXXXXXXXXXXXXXXXXXXX')
  t.equal(config.database.filename, join(cwd, 'kronus.db'))
})

t.test("the seed's file with its empty privateKeyPem takes the key from the environment", async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'config.yml'), SEED_CONFIG_YML)
  await t.rejects(loadConfig({ file: 'config.yml', dev: false, cwd, env: {} }), {
    name: 'ConfigError',
    message: /invalid configuration in .*config\.yml:\n {2}- kronus\.privateKeyPem is required/
  })
  const config = await loadConfig({
    file: 'config.yml',
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  })
  t.equal(config.kronus.privateKeyPem, testPrivateKeyPem().trim())
})

t.test("the first Kronus's file with empty values starts: an empty value is unset", async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'config.yml'), SEED_CONFIG_WITH_EMPTY_VALUES_YML)
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  const config = await loadConfig({ file: 'config.yml', dev: false, cwd, env })
  t.equal(
    config.google.applicationCredentials,
    undefined,
    'empty applicationCredentials: the default credentials are used'
  )
  t.equal(config.google.storage.prefix, 'kronus', 'an empty quoted value is unset too, so the default applies')
  t.equal(config.kronus.sqlite.passPhrase, 'passphrase', 'the top-level sqlite.passPhrase')
  const fromEnv = await loadConfig({
    file: 'config.yml',
    dev: false,
    cwd,
    env: { ...env, GOOGLE_APPLICATION_CREDENTIALS: '/etc/kronus/gcs.json' }
  })
  t.equal(fromEnv.google.applicationCredentials, '/etc/kronus/gcs.json', 'an empty value lets the environment fill it')
})

t.test('the passphrase: top-level sqlite or kronus.sqlite, not both; missing, the error names both', async (t) => {
  const cwd = tempDir(t)
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  writeFileSync(join(cwd, 'nested.yml'), 'kronus:\n  sqlite:\n    passPhrase: nested\n')
  t.equal((await loadConfig({ file: 'nested.yml', dev: false, cwd, env })).kronus.sqlite.passPhrase, 'nested')
  writeFileSync(join(cwd, 'top.yml'), 'sqlite:\n  passPhrase: top\n')
  t.equal((await loadConfig({ file: 'top.yml', dev: false, cwd, env })).kronus.sqlite.passPhrase, 'top')
  writeFileSync(join(cwd, 'both.yml'), 'kronus:\n  sqlite:\n    passPhrase: a\nsqlite:\n  passPhrase: b\n')
  await t.rejects(loadConfig({ file: 'both.yml', dev: false, cwd, env }), {
    name: 'ConfigError',
    message: /both\.yml[\s\S]*sqlite and kronus\.sqlite are both given/
  })
  writeFileSync(join(cwd, 'none.yml'), 'sqlite:\n  passPhrase:\n')
  await t.rejects(loadConfig({ file: 'none.yml', dev: false, cwd, env }), {
    message:
      /kronus\.sqlite\.passPhrase is required for the sqlcipher database \(or sqlite\.passPhrase, or KRONUS_SQLITE_PASSPHRASE\)/
  })
})

t.test('environment: secrets fill what the file lacks, the file wins, KRONUS_PORT always wins', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  listener:\n    port: 3900\n  sqlite:\n    passPhrase: from-file\ntwilio:\n  authToken: file-token\n'
  )
  const config = await loadConfig({
    file: 'config.yml',
    dev: false,
    cwd,
    env: {
      KRONUS_PORT: '4100',
      KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(),
      KRONUS_SQLITE_PASSPHRASE: 'from-env',
      TWILIO_ACCOUNT_SID: 'env-sid',
      TWILIO_AUTH_TOKEN: 'env-token',
      TWILIO_MESSAGING_SERVICE_SID: 'env-msid',
      GOOGLE_APPLICATION_CREDENTIALS: '/creds.json'
    }
  })
  t.equal(config.kronus.listener.port, 4100, 'KRONUS_PORT wins over the file')
  t.equal(config.kronus.sqlite.passPhrase, 'from-file', 'the file wins over KRONUS_SQLITE_PASSPHRASE')
  t.equal(config.twilio.authToken, 'file-token', 'the file wins over TWILIO_AUTH_TOKEN')
  t.equal(config.twilio.accountSid, 'env-sid')
  t.equal(config.twilio.messagingServiceSid, 'env-msid')
  t.equal(config.google.applicationCredentials, '/creds.json')
})

t.test('a bad KRONUS_PORT is refused, naming KRONUS_PORT', async (t) => {
  await t.rejects(loadConfig({ dev: true, cwd: tempDir(t), env: { KRONUS_PORT: 'http' } }), {
    name: 'ConfigError',
    message: /KRONUS_PORT must be a whole number from 0 to 65535 \(got "http"\)/
  })
})

t.test('a bad secret from the environment names the variable', async (t) => {
  await t.rejects(loadConfig({ dev: true, cwd: tempDir(t), env: { KRONUS_PRIVATE_KEY_PEM: 'not a key' } }), {
    message: /kronus\.privateKeyPem must be a PEM-encoded RSA private key \(value from KRONUS_PRIVATE_KEY_PEM\)/
  })
})

t.test('defaults', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'c.yml'), '')
  const config = await loadConfig({
    file: 'c.yml',
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  })
  t.equal(config.kronus.cron.timeZone, 'UTC')
  t.equal(config.kronus.listener.port, 3900)
  t.equal(config.google.storage.prefix, 'kronus')
  t.equal(config.google.storage.sqliteBackupSchedule, '*/15 * * * *')
  t.equal(config.google.storage.enableSqliteBackupAndSync, false)
  t.equal(config.dev, false)
  t.equal(config.dataDir, cwd)
})

t.test('a relative database file is found from the working folder', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'c.yml'), 'database:\n  filename: data/k.db\n')
  const config = await loadConfig({
    file: 'c.yml',
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  })
  t.equal(config.database.filename, join(cwd, 'data', 'k.db'))
})

t.test('without --config, kronus.config.* in the working folder is used', async (t) => {
  const cwd = tempDir(t)
  await t.rejects(loadConfig({ dev: false, cwd, env: {} }), {
    name: 'ConfigError',
    message: /no kronus\.config\.ts.*pass --config FILE.*--dev/s
  })
  writeFileSync(join(cwd, 'kronus.config.mjs'), 'export default { kronus: { listener: { port: 4004 } } }\n')
  const config = await loadConfig({
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  })
  t.equal(config.kronus.listener.port, 4004)
})

t.test('file problems name the file', async (t) => {
  const cwd = tempDir(t)
  const env = {}
  await t.rejects(loadConfig({ file: 'missing.yml', dev: false, cwd, env }), {
    message: /cannot load configuration file .*missing\.yml:\n {2}- file not found/
  })
  writeFileSync(join(cwd, 'broken.ts'), 'export default {\n  kronus: {\n    port: 3900,,\n')
  const syntax = await loadConfig({ file: 'broken.ts', dev: false, cwd, env }).catch((e) => e)
  t.match(syntax.message, /^cannot load configuration file .*broken\.ts:\n/)
  t.same(
    syntax.problems,
    [`${join(cwd, 'broken.ts')}:3:16: Expected identifier but found ","`],
    'a syntax error is one line naming the file, line and column'
  )
  writeFileSync(join(cwd, 'throws.mjs'), "throw new Error('KRONUS_SECRET is not set')\n")
  await t.rejects(loadConfig({ file: 'throws.mjs', dev: false, cwd, env }), {
    message: /throws\.mjs:\n {2}- KRONUS_SECRET is not set/
  })
  writeFileSync(join(cwd, 'named.mjs'), 'export const config = {}\n')
  await t.rejects(loadConfig({ file: 'named.mjs', dev: false, cwd, env }), {
    message: /named\.mjs:\n {2}- its default export must be the configuration object/
  })
  writeFileSync(join(cwd, 'broken.yml'), 'kronus:\n  listener: [3900\n')
  await t.rejects(loadConfig({ file: 'broken.yml', dev: false, cwd, env }), {
    message: /cannot parse .*broken\.yml:\n {2}- .*line \d+, column \d+/
  })
  writeFileSync(join(cwd, 'config.json'), '{}')
  await t.rejects(loadConfig({ file: 'config.json', dev: false, cwd, env }), {
    message: /unsupported file type "\.json"/
  })
  await t.rejects(loadConfig({ file: '.', dev: false, cwd, env }), { message: /not a file/ })
})

t.test('validation problems name the file and every key', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(
    join(cwd, 'kronus.config.ts'),
    "export default { kronus: { listener: { port: 'x' }, publicUrl: 'my-app.com' }, twilio: { acountSid: 'x' } }\n"
  )
  const err = await loadConfig({
    file: 'kronus.config.ts',
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  }).catch((e) => e)
  t.equal(err.name, 'ConfigError')
  t.match(err.message, /^invalid configuration in .*kronus\.config\.ts:/)
  t.match(err.problems, [
    /^kronus\.publicUrl /,
    /^kronus\.listener\.port must be a number/,
    /^twilio\.acountSid is not allowed/
  ])
})

t.test("the repository's kronus.config.ts is a working example", async (t) => {
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p', TWILIO_AUTH_TOKEN: 'tok' }
  const config = await loadConfig({ file: join(REPO, 'kronus.config.ts'), dev: false, cwd: tempDir(t), env })
  t.equal(config.kronus.privateKeyPem, env.KRONUS_PRIVATE_KEY_PEM.trim(), 'the key comes from the environment')
  t.equal(config.kronus.sqlite.passPhrase, 'p')
  await t.rejects(
    loadConfig({ file: join(REPO, 'kronus.config.ts'), dev: false, cwd: tempDir(t), env: {} }),
    {
      message: /kronus\.privateKeyPem is required[\s\S]*kronus\.sqlite\.passPhrase is required/
    },
    'it holds no secret of its own'
  )
})

t.test('examples/config.yml names every value to fill in at once, and loads once they are', async (t) => {
  const err = await loadConfig({ file: EXAMPLE_CONFIG_YML, dev: false, cwd: tempDir(t), env: {} }).catch((e) => e)
  t.type(err, ConfigError)
  t.same(
    (err as ConfigError).problems.map((problem) => problem.split(' ')[0]),
    ['kronus.privateKeyPem', 'twilio.accountSid', 'twilio.authToken', 'twilio.messagingServiceSid'],
    'one run names the key and the three Twilio keys, and nothing else'
  )
  t.equal(
    (err as ConfigError).problems[1],
    "twilio.accountSid is still the example's placeholder: fill it in, or delete the line to take it from the environment"
  )

  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'config.yml'), filledExampleConfig(testPrivateKeyPem()))
  const config = await loadConfig({ file: 'config.yml', dev: false, cwd, env: {} })
  t.equal(config.kronus.publicUrl, 'https://my-app.com')
  t.same(config.twilio, FILLED_TWILIO)
  t.equal(config.google.storage.enableSqliteBackupAndSync, false, 'backups are off in the example')
  t.equal(config.database.filename, join(cwd, 'kronus.db'), 'the database is kronus.db in the folder it starts from')
  t.same(
    builtinPlugins(config).map((plugin) => plugin.name),
    ['twilio-sms', 'sms-commands', 'emergency-contact', 'outbound-webhook'],
    'texts go through Twilio, and no backup plugin needs Google credentials'
  )
})

t.test('a module configuration shares Kronus modules instead of loading copies', async (t) => {
  const cwd = tempDir(t, 'module')
  const resolveUrl = new URL('../../src/config/resolve.ts', import.meta.url).href
  writeFileSync(
    join(cwd, 'kronus.config.ts'),
    `import { ConfigError } from '${resolveUrl}'\n` +
      "export default { plugins: [{ name: 'p', version: '1', options: {}, register() {}, errorClass: ConfigError }] }\n"
  )
  const config = await loadConfig({
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem(), KRONUS_SQLITE_PASSPHRASE: 'p' }
  })
  t.equal((config.plugins[0] as any).errorClass, ConfigError, 'instanceof checks across plugin and core work')
})

t.test('a TypeScript configuration imports its own files, packages and Kronus as Node would', async (t) => {
  const cwd = tempDir(t)
  const pem = testPrivateKeyPem()
  // A plugin of the user's, in TypeScript, imported by the .js name TypeScript expects.
  writeFileSync(
    join(cwd, 'my-plugin.ts'),
    [
      "import { dirname } from 'node:path'",
      "import { fileURLToPath, pathToFileURL } from 'node:url'",
      "import { shout } from 'shouting'",
      'export const here = { url: import.meta.url, dir: import.meta.dirname, derived: dirname(fileURLToPath(import.meta.url)) }',
      "export const greeting: string = shout('hello')",
      'export function fails(): never {',
      "  throw new Error('plugin failed')",
      '}'
    ].join('\n')
  )
  // A package in the configuration's node_modules, found from there and not compiled in.
  const pkg = join(cwd, 'node_modules', 'shouting')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'shouting', type: 'module', exports: './index.js' }))
  writeFileSync(
    join(pkg, 'index.js'),
    'export const shout = (s) => s.toUpperCase()\nexport const url = import.meta.url\n'
  )
  writeFileSync(
    join(cwd, 'kronus.config.ts'),
    [
      "import { defineConfig } from 'kronus'",
      "import { url as packageUrl } from 'shouting'",
      "import { fails, greeting, here } from './my-plugin.js'",
      'export default defineConfig({',
      "  kronus: { publicUrl: 'https://kronus.example' },",
      '  plugins: [{ name: greeting, version: __dirname, options: { here, packageUrl, fails }, register() {} }] as never',
      '})'
    ].join('\n')
  )
  const config = await loadConfig({
    dev: false,
    cwd,
    env: { KRONUS_PRIVATE_KEY_PEM: pem, KRONUS_SQLITE_PASSPHRASE: 'p' }
  })
  const plugin = config.plugins[0] as any
  t.equal(plugin.name, 'HELLO', 'the package is found from the configuration folder')
  t.equal(plugin.version, cwd, '__dirname is the configuration file folder')
  const pluginUrl = pathToFileURL(join(cwd, 'my-plugin.ts')).href
  t.same(plugin.options.here, { url: pluginUrl, dir: cwd, derived: cwd }, "import.meta names each file's own place")
  t.equal(
    plugin.options.packageUrl,
    pathToFileURL(join(pkg, 'index.js')).href,
    'the package is imported from its own file'
  )
  const err = (() => {
    try {
      plugin.options.fails()
    } catch (e) {
      return e as Error
    }
  })()
  t.match(err?.stack, `${join(cwd, 'my-plugin.ts')}:7:`, 'a stack trace names the TypeScript file and line')
})

t.test('a JavaScript or CommonJS configuration may import TypeScript and require packages', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'port.ts'), 'export const port: number = 4005\n')
  writeFileSync(
    join(cwd, 'kronus.config.mjs'),
    "import { port } from './port.js'\nexport default { kronus: { listener: { port } } }\n"
  )
  t.same(await readConfigFile(join(cwd, 'kronus.config.mjs')), { kronus: { listener: { port: 4005 } } })
  writeFileSync(
    join(cwd, 'c.js'),
    "const { join } = require('node:path')\nmodule.exports = { dataDir: join('/srv', 'kronus') }\n"
  )
  t.same(await readConfigFile(join(cwd, 'c.js')), { dataDir: '/srv/kronus' })
  // An ES module with a require() of its own, as Node's documentation shows it.
  writeFileSync(
    join(cwd, 'own.mts'),
    "import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)\nexport default { dataDir: require('node:path').join('/srv', 'own') }\n"
  )
  t.same(await readConfigFile(join(cwd, 'own.mts')), { dataDir: '/srv/own' })
})

t.test('an import that cannot be found names the importing line', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'kronus.config.ts'), "\nimport { x } from './missing.js'\nexport default { x }\n")
  const err = await readConfigFile(join(cwd, 'kronus.config.ts')).catch((e) => e)
  t.same(err.problems, [`${join(cwd, 'kronus.config.ts')}:2:19: Could not resolve "./missing.js"`])
})
