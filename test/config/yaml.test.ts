import t from 'tap'
import { ConfigError } from '../../src/config/resolve.js'
import { parseYamlConfig } from '../../src/config/yaml.js'
import { testPrivateKeyPem } from '../helpers/keys.js'
import { SEED_CONFIG_YML, seedConfigWithKey } from './seed-config.js'

t.test("reads the first Kronus's config.yml as it is", async (t) => {
  t.strictSame(
    parseYamlConfig(SEED_CONFIG_YML, 'config.yml'),
    {
      kronus: {
        publicUrl: 'https://my-app.com',
        cron: { timeZone: 'America/Toronto' },
        listener: { port: '3900' },
        sqlite: { passPhrase: 'passphrase' }
      },
      google: {
        storage: {
          bucket: 'gstorage-bucket-name',
          prefix: 'kronus',
          sqliteBackupSchedule: '0 * * * *',
          enableSqliteBackupAndSync: 'true'
        },
        applicationCredentials: '/path/to/google/credentials'
      },
      twilio: {
        accountSid: 'AHKX00SXXXXXXXXXXXXXXXXXXX',
        authToken: 'BHKX00SXXXXXXXXXXXXXXXXXXX',
        messagingServiceSid: 'CHKX00SXXXXXXXXXXXXXXXXXXX'
      }
    },
    'the empty privateKeyPem is left unset so the environment can give it'
  )
})

t.test('keeps a pasted PEM block intact', async (t) => {
  const pem = testPrivateKeyPem()
  const config = parseYamlConfig(seedConfigWithKey(pem), 'config.yml') as any
  t.equal(config.kronus.privateKeyPem, pem.trim() + '\n')
})

t.test('keeps every value as the text written', async (t) => {
  const config = parseYamlConfig(
    'kronus:\n  sqlite:\n    passPhrase: 0123\ntwilio:\n  authToken: 1e3\n  accountSid: 12:30\n',
    'c.yml'
  ) as any
  t.equal(config.kronus.sqlite.passPhrase, '0123', 'a numeric-looking passphrase keeps its leading zero')
  t.equal(config.twilio.authToken, '1e3')
  t.equal(config.twilio.accountSid, '12:30', 'no YAML 1.1 sexagesimal number')
})

t.test('an unquoted ~ or null means unset; a quoted one is text', async (t) => {
  const config = parseYamlConfig(
    'twilio:\n  accountSid: ~\n  authToken: null\n  messagingServiceSid: "null"\n',
    'c.yml'
  )
  t.strictSame(config, { twilio: { messagingServiceSid: 'null' } })
})

t.test('matches keys whatever their case, as the first Kronus did', async (t) => {
  const config = parseYamlConfig('Kronus:\n  SQLite:\n    passphrase: x\n  publicurl: "https://a.example"\n', 'c.yml')
  t.strictSame(config, { kronus: { sqlite: { passPhrase: 'x' }, publicUrl: 'https://a.example' } })
})

t.test("reads the first Kronus's top-level sqlite: section into kronus.sqlite, whatever its case", async (t) => {
  t.strictSame(parseYamlConfig('SQLite:\n  passphrase: x\nkronus:\n  publicUrl: "https://a.example"\n', 'c.yml'), {
    kronus: { publicUrl: 'https://a.example', sqlite: { passPhrase: 'x' } }
  })
  t.strictSame(parseYamlConfig('sqlite:\n  passPhrase: x\n', 'c.yml'), { kronus: { sqlite: { passPhrase: 'x' } } })
})

t.test('an empty value, quoted or not, means unset', async (t) => {
  const config = parseYamlConfig(
    'google:\n  applicationCredentials:\n  storage:\n    prefix: ""\n    bucket: "  "\n',
    'c.yml'
  )
  t.strictSame(config, { google: { storage: {} } })
})

t.test('refuses one key given twice in different cases', async (t) => {
  t.throws(() => parseYamlConfig('kronus:\n  sqlite:\n    passPhrase: a\n    passphrase: b\n', '/etc/kronus/c.yml'), {
    name: 'ConfigError',
    message: /c\.yml[\s\S]*kronus\.sqlite\.passPhrase is given twice \(as "passPhrase" and "passphrase"\)/
  })
})

t.test('keeps unknown keys for validation to name', async (t) => {
  t.same(parseYamlConfig('twilio:\n  acountSid: x\n', 'c.yml'), { twilio: { acountSid: 'x' } })
})

t.test('a syntax error names the file and the line', async (t) => {
  const err = t.throws(() =>
    parseYamlConfig('kronus:\n  listener: [3900\ntwilio:\n  accountSid: x\n', '/srv/config.yml')
  ) as ConfigError
  t.ok(err instanceof ConfigError)
  t.match(err.message, /cannot parse \/srv\/config\.yml/)
  t.match(err.message, /line \d+, column \d+/)
})

t.test('a repeated key is an error', async (t) => {
  t.throws(() => parseYamlConfig('kronus:\n  publicUrl: a\n  publicUrl: b\n', 'c.yml'), {
    message: /Map keys must be unique/
  })
})

t.test('an empty file is an empty configuration; a list is not one', async (t) => {
  t.same(parseYamlConfig('# nothing yet\n', 'c.yml'), {})
  t.throws(() => parseYamlConfig('- a\n- b\n', 'c.yml'), { message: /top level must be a mapping/ })
})

t.test('anchors and aliases resolve', async (t) => {
  t.same(parseYamlConfig('x: &tz "Europe/Paris"\n', 'c.yml'), { x: 'Europe/Paris' })
  t.same(parseYamlConfig('kronus:\n  cron:\n    timeZone: &tz Europe/Paris\ntwilio:\n  accountSid: *tz\n', 'c.yml'), {
    kronus: { cron: { timeZone: 'Europe/Paris' } },
    twilio: { accountSid: 'Europe/Paris' }
  })
})

t.test('the first Kronus config.yml with a limits section added keeps working', async (t) => {
  const config = parseYamlConfig(`${SEED_CONFIG_YML}\nlimits:\n  contactsperuser: 3\n`, 'config.yml')
  t.strictSame((config as any).limits, { contactsPerUser: '3' }, 'the key in any case, as the text written')
  t.strictSame((config as any).kronus.cron, { timeZone: 'America/Toronto' }, 'the first Kronus keys are as before')
})

t.test('a metrics section, as config.yml writes it', async (t) => {
  const config = parseYamlConfig(
    "metrics:\n  token: scrape-0123456789abcdef\n  allowFrom:\n    - 127.0.0.1\n    - '10.0.0.0/8'\n",
    'c.yml'
  ) as any
  t.same(config.metrics, { token: 'scrape-0123456789abcdef', allowFrom: ['127.0.0.1', '10.0.0.0/8'] })
  const cased = parseYamlConfig('Metrics:\n  AllowFrom: [10.1.0.0/16]\n', 'c.yml') as any
  t.same(cased.metrics, { allowFrom: ['10.1.0.0/16'] }, 'keys in any case, as the first Kronus read them')
})
