import t from 'tap'
import { ConfigError, resolveConfig } from '../../src/config/resolve.js'
import { testPrivateKeyPem } from '../helpers/keys.js'

function valid(): any {
  return { kronus: { privateKeyPem: testPrivateKeyPem(), sqlite: { passPhrase: 'secret' } } }
}

function problemsOf(input: any, options?: Parameters<typeof resolveConfig>[1]): string[] {
  try {
    resolveConfig(input, options)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

function withValue(path: string, value: unknown): any {
  const input = valid()
  const keys = path.split('.')
  let node = input
  for (const key of keys.slice(0, -1)) node = node[key] ??= {}
  node[keys.at(-1)!] = value
  return input
}

t.test('fills the defaults of the first Kronus', async (t) => {
  const config = resolveConfig(valid())
  t.equal(config.kronus.cron.timeZone, 'UTC')
  t.equal(config.kronus.listener.port, 3900)
  t.equal(config.google.storage.prefix, 'kronus')
  t.equal(config.google.storage.sqliteBackupSchedule, '*/15 * * * *', 'backup every 15 minutes')
  t.equal(config.google.storage.enableSqliteBackupAndSync, false)
  t.equal(config.database.client, 'sqlcipher')
  t.equal(config.dev, false)
  t.equal(config.limits.contactsPerUser, 10, 'ten emergency contacts a user')
  t.equal(config.limits.minCheckInIntervalMinutes, 60, 'scheduled check-ins at most hourly')
  t.equal(config.jobs.listen, true, 'PostgreSQL workers are woken by notifications, not a poll every second')
  t.equal(config.jobs.safetyPollIntervalMs, 30_000, 'and still look every 30 s for what no notification tells')
})

// Each row: a key, a bad value, and what the message must say after the key.
const BAD_VALUES: Array<[string, unknown, RegExp]> = [
  ['kronus.privateKeyPem', 'not a key', /must be a PEM-encoded RSA private key/],
  [
    'kronus.privateKeyPem',
    '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    /must be a PEM-encoded RSA private key/
  ],
  ['kronus.publicUrl', 'my-app.com', /must be an absolute http\(s\) URL/],
  ['kronus.publicUrl', 'ftp://my-app.com', /must be an absolute http\(s\) URL/],
  ['kronus.cron.timeZone', 'Mars/Olympus', /must be an IANA time zone/],
  ['kronus.listener.port', 70000, /must be less than or equal to 65535/],
  ['kronus.listener.port', 'abc', /must be a number/],
  ['kronus.listener.port', 39.5, /must be an integer/],
  ['kronus.sqlite.passPhrase', '', /is not allowed to be empty/],
  ['google.storage.sqliteBackupSchedule', '61 * * * *', /must be a valid 5-field cron expression/],
  ['google.storage.enableSqliteBackupAndSync', 'maybe', /must be a boolean/],
  ['google.storage.prefix', 7, /must be a string/],
  ['google.applicationCredentials', 7, /must be a string/],
  ['twilio.accountSid', 7, /must be a string/],
  ['twilio.authToken', 7, /must be a string/],
  ['twilio.messagingServiceSid', 7, /must be a string/],
  ['twilio.acountSid', 'x', /is not allowed/],
  ['database.client', 'mysql', /must be one of/],
  ['logging.level', 'loud', /must be one of/],
  ['logging.pretty', 'maybe', /must be a boolean/],
  ['probes.onDemandDailyLimit', -1, /must be greater than or equal to 0/],
  ['limits.contactsPerUser', 0, /must be greater than or equal to 1/],
  ['limits.contactsPerUser', 'ten', /must be a number/],
  ['limits.minCheckInIntervalMinutes', 0, /must be greater than or equal to 1/],
  ['auth.maxFailedLogins', 0, /must be greater than or equal to 1/],
  ['auth.maxFailedLoginsPerAddress', 0, /must be greater than or equal to 1/],
  ['auth.maxLoginDelayMinutes', 0, /must be greater than or equal to 1/],
  ['auth.accessTokenTtlMinutes', 0, /must be greater than or equal to 1/],
  ['auth.maxPasswordChangesPerHour', 'many', /must be a number/],
  ['kronus.listener.trustProxy', '127.0.0.1', /must be an array/],
  ['plugins', 'all', /must be an array/]
]

t.test('every validation error names its key and the reason', async (t) => {
  for (const [path, value, reason] of BAD_VALUES) {
    const problems = problemsOf(withValue(path, value))
    t.equal(problems.length, 1, `${path} = ${JSON.stringify(value)}: one problem`)
    t.match(problems[0], new RegExp(`^${path.replace(/\./g, '\\.')} `), `${path}: names the key`)
    t.match(problems[0], reason, `${path}: says why`)
  }
})

t.test('trustProxy takes addresses and CIDRs, and names the entry that is neither', async (t) => {
  t.same(problemsOf(withValue('kronus.listener.trustProxy', ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'])), [])
  const problems = problemsOf(withValue('kronus.listener.trustProxy', ['127.0.0.1', 'localhost']))
  t.equal(problems.length, 1)
  t.match(problems[0], /kronus\.listener\.trustProxy\[1\] must be an IP address or CIDR/)
})

t.test('missing secrets name their key and the environment variable that can give them', async (t) => {
  const problems = problemsOf({ kronus: {} })
  t.match(problems, [
    /^kronus\.privateKeyPem is required \(or set KRONUS_PRIVATE_KEY_PEM or KRONUS_PRIVATE_KEY_FILE\)/,
    /^kronus\.sqlite\.passPhrase is required .*KRONUS_SQLITE_PASSPHRASE/
  ])
  t.match(problemsOf({}), [/^kronus is required/])
})

t.test('reports every problem at once, under a heading', async (t) => {
  const input = withValue('kronus.listener.port', -1)
  input.kronus.cron = { timeZone: 'Nowhere/Else' }
  const err = t.throws(() =>
    resolveConfig(input, { heading: 'invalid configuration in /etc/kronus.yml' })
  ) as ConfigError
  t.equal(err.problems.length, 2)
  t.match(
    err.message,
    /^invalid configuration in \/etc\/kronus\.yml:\n {2}- kronus\.cron\.timeZone .*\n {2}- kronus\.listener\.port /
  )
})

t.test('names where a value came from when it was not the file', async (t) => {
  const problems = problemsOf(withValue('kronus.privateKeyPem', 'garbage'), {
    sources: new Map([['kronus.privateKeyPem', 'KRONUS_PRIVATE_KEY_PEM']])
  })
  t.match(problems, [
    /^kronus\.privateKeyPem must be a PEM-encoded RSA private key \(value from KRONUS_PRIVATE_KEY_PEM\)$/
  ])
})

t.test('turning backups on needs a bucket', async (t) => {
  t.match(problemsOf(withValue('google.storage.enableSqliteBackupAndSync', true)), [
    /^google\.storage\.bucket is required when google\.storage\.enableSqliteBackupAndSync is true/
  ])
  const input = withValue('google.storage.enableSqliteBackupAndSync', 'yes')
  input.google.storage.bucket = 'b'
  t.equal(resolveConfig(input).google.storage.enableSqliteBackupAndSync, true, 'YAML 1.1 "yes" is true')
})

t.test('PostgreSQL needs a connection string and no passphrase', async (t) => {
  t.match(problemsOf({ kronus: { privateKeyPem: testPrivateKeyPem() }, database: { client: 'postgres' } }), [
    /^database\.connection is required .*KRONUS_DATABASE_URL/
  ])
  const config = resolveConfig({
    kronus: { privateKeyPem: testPrivateKeyPem() },
    database: { client: 'postgres', connection: 'postgres://localhost/kronus' }
  })
  t.equal(config.database.connection, 'postgres://localhost/kronus')
})

t.test('metrics: off by default; a token of 16+ characters; allowFrom of addresses and CIDRs', async (t) => {
  t.same(resolveConfig(valid()).metrics, { allowFrom: [] })
  const set = resolveConfig({ ...valid(), metrics: { token: ' 0123456789abcdef ', allowFrom: ['10.0.0.0/8', '::1'] } })
  t.same(set.metrics, { token: '0123456789abcdef', allowFrom: ['10.0.0.0/8', '::1'] })
  t.match(problemsOf(withValue('metrics.token', 'short')), [/^metrics\.token must be at least 16 characters/])
  t.match(problemsOf(withValue('metrics.allowFrom', ['10.0.0.0/8', 'prometheus.lan'])), [
    /metrics\.allowFrom\[1\] must be an IP address or CIDR/
  ])
  t.match(problemsOf(withValue('metrics.allowFrom', '10.0.0.0/8')), [/^metrics\.allowFrom must be an array/])
})

t.test('kronus.heartbeat: off unless a URL is given; a minute by default; intervals a cron fires evenly', async (t) => {
  t.equal(resolveConfig(valid()).kronus.heartbeat, undefined, 'no heartbeat by default')
  t.same(resolveConfig(withValue('kronus.heartbeat', { url: 'https://hc-ping.com/5bf6' })).kronus.heartbeat, {
    url: 'https://hc-ping.com/5bf6',
    intervalSeconds: 60
  })
  t.equal(
    resolveConfig(withValue('kronus.heartbeat', { url: 'https://hc-ping.com/x', intervalSeconds: '300' })).kronus
      .heartbeat?.intervalSeconds,
    300,
    'a YAML string is read as a number'
  )
  t.same(problemsOf(withValue('kronus.heartbeat', { url: 'https://hc-ping.com/x', intervalSeconds: 90 })), [
    'kronus.heartbeat.intervalSeconds must be a whole number of minutes that divides an hour, in seconds: 60, 120, 180, 240, 300, 360, 600, 720, 900, 1200, 1800, 3600'
  ])
  t.same(problemsOf(withValue('kronus.heartbeat', { url: 'hc-ping.com/x' })), [
    'kronus.heartbeat.url must be an absolute http(s) URL such as "https://hc-ping.com/<uuid>"'
  ])
  t.same(problemsOf(withValue('kronus.heartbeat', { intervalSeconds: 60 })), [
    'kronus.heartbeat.url is required when kronus.heartbeat is given (or set KRONUS_HEARTBEAT_URL)'
  ])
})
