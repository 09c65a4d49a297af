import { createPrivateKey } from 'node:crypto'
import Joi from 'joi'
import { isValidCron } from '../scheduling/cron.js'
import { isAddressOrCidr } from '../util/address-list.js'
import { isValidTimeZone } from '../util/time.js'

const cronString = Joi.string()
  .custom((value: string, helpers) => {
    if (!isValidCron(value)) return helpers.error('any.invalid')
    return value
  }, 'five-field cron expression')
  .messages({ 'any.invalid': '{{#label}} must be a valid 5-field cron expression' })

const timeZone = Joi.string()
  .custom((value: string, helpers) => {
    if (!isValidTimeZone(value)) return helpers.error('any.invalid')
    return value
  }, 'IANA time zone')
  .messages({ 'any.invalid': '{{#label}} must be an IANA time zone such as "America/Toronto"' })

// Checked at load so a broken key fails at start-up, naming its key, rather than at the first login.
const rsaPrivateKeyPem = Joi.string()
  .trim()
  .custom((value: string, helpers) => {
    try {
      if (createPrivateKey(value).asymmetricKeyType === 'rsa') return value
    } catch {
      // reported below
    }
    return helpers.error('any.invalid')
  }, 'PEM-encoded RSA private key')
  .messages({
    'any.invalid': '{{#label}} must be a PEM-encoded RSA private key',
    'any.required': '{{#label}} is required (or set KRONUS_PRIVATE_KEY_PEM or KRONUS_PRIVATE_KEY_FILE)'
  })

const addressOrCidr = Joi.string()
  .trim()
  .custom((value: string, helpers) => {
    return isAddressOrCidr(value) ? value : helpers.error('any.invalid')
  }, 'IP address or CIDR')
  .messages({
    'any.invalid': '{{#label}} must be an IP address or CIDR such as "127.0.0.1" or "10.0.0.0/8"'
  })

// examples/config.yml starts the values a reader must supply with "FILL IN"; one left as it
// is fails here, naming its key, with every other such key in the same run.
const fillIn = Joi.string()
  .pattern(/^\s*FILL IN\b/i, { invert: true })
  .messages({
    'string.pattern.invert.base':
      "{{#label}} is still the example's placeholder: fill it in, or delete the line to take it from the environment"
  })

// The first Kronus read YAML 1.1, where yes/no/on/off are booleans; old config.yml files may use them.
const yamlBoolean = Joi.boolean().truthy('yes', 'on').falsy('no', 'off')

/** The heartbeat intervals a minute-grained cron fires evenly through every hour. */
export const HEARTBEAT_INTERVAL_SECONDS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].map((minutes) => minutes * 60)

const plugin = Joi.object({
  name: Joi.string().required(),
  register: Joi.function().required()
}).unknown(true)

/**
 * Validates a merged configuration (file + environment + dev defaults) and fills defaults.
 * Labels are full key paths so each error names the key a user has to fix.
 */
export const configSchema = Joi.object({
  dev: Joi.boolean().default(false),
  dataDir: Joi.string().default('.'),
  kronus: Joi.object({
    privateKeyPem: rsaPrivateKeyPem.required(),
    // Twilio signs webhooks against this URL; without a scheme the signature check would use a wrong URL.
    publicUrl: Joi.string()
      .trim()
      .uri({ scheme: ['http', 'https'] })
      .default('http://localhost:3900')
      .messages({
        'string.uri': '{{#label}} must be an absolute http(s) URL such as "https://my-app.com"',
        'string.uriCustomScheme': '{{#label}} must be an absolute http(s) URL such as "https://my-app.com"'
      }),
    cron: Joi.object({ timeZone: timeZone.default('UTC') }).default(),
    listener: Joi.object({
      port: Joi.number().integer().min(0).max(65535).default(3900),
      host: Joi.string().default('0.0.0.0'),
      trustProxy: Joi.array().items(addressOrCidr).default([]),
      // Checking every response against its schema took about a fifth of a request's CPU
      // (bench/api.ts profile): on in dev mode and in tests, off in production unless asked.
      responseValidationPercent: Joi.number()
        .min(0)
        .max(100)
        .when('/dev', { is: true, then: Joi.number().default(100), otherwise: Joi.number().default(0) })
    }).default(),
    // The ping runs on the durable cron (a minute's grain), evenly through each hour.
    heartbeat: Joi.object({
      url: Joi.string()
        .trim()
        .uri({ scheme: ['http', 'https'] })
        .required()
        .messages({
          'string.uri': '{{#label}} must be an absolute http(s) URL such as "https://hc-ping.com/<uuid>"',
          'string.uriCustomScheme': '{{#label}} must be an absolute http(s) URL such as "https://hc-ping.com/<uuid>"',
          'any.required': '{{#label}} is required when kronus.heartbeat is given (or set KRONUS_HEARTBEAT_URL)'
        }),
      intervalSeconds: Joi.number()
        .valid(...HEARTBEAT_INTERVAL_SECONDS)
        .default(60)
        .messages({
          'any.only': `{{#label}} must be a whole number of minutes that divides an hour, in seconds: ${HEARTBEAT_INTERVAL_SECONDS.join(', ')}`
        })
    }),
    sqlite: Joi.object({
      // The SQLCipher database cannot be opened without its passphrase.
      passPhrase: Joi.string().min(1).when('/database.client', { is: 'postgres', otherwise: Joi.required() }).messages({
        'any.required':
          '{{#label}} is required for the sqlcipher database (or sqlite.passPhrase, or KRONUS_SQLITE_PASSPHRASE)'
      })
    }).default()
  }).required(),
  google: Joi.object({
    storage: Joi.object({
      bucket: Joi.string()
        .when('enableSqliteBackupAndSync', { is: yamlBoolean.valid(true).required(), then: Joi.required() })
        .messages({ 'any.required': '{{#label}} is required when google.storage.enableSqliteBackupAndSync is true' }),
      prefix: Joi.string().allow('').default('kronus'),
      sqliteBackupSchedule: cronString.default('*/15 * * * *'),
      enableSqliteBackupAndSync: yamlBoolean.default(false)
    }).default(),
    applicationCredentials: Joi.string()
  }).default(),
  twilio: Joi.object({
    accountSid: fillIn,
    authToken: fillIn,
    messagingServiceSid: fillIn,
    callerNumber: Joi.string()
      .pattern(/^\+[1-9]\d{6,14}$/)
      .messages({ 'string.pattern.base': '{{#label}} must be a phone number in E.164 form, e.g. +15551234567' })
  }).default(),
  database: Joi.object({
    client: Joi.string().valid('sqlcipher', 'postgres').default('sqlcipher'),
    filename: Joi.string(),
    connection: Joi.string()
      .when('client', { is: 'postgres', then: Joi.required() })
      .messages({ 'any.required': '{{#label}} is required for the postgres database (or set KRONUS_DATABASE_URL)' })
  }).default(),
  probes: Joi.object({
    onDemandDailyLimit: Joi.number().integer().min(0).max(1000).default(10),
    missedFireGraceMinutes: Joi.number()
      .integer()
      .min(0)
      .max(7 * 24 * 60)
      .default(60)
  }).default(),
  alarms: Joi.object({
    // At least 30 minutes: an alarm must outlast a provider's outage, not give up in seconds.
    alertRetryMinutes: Joi.number()
      .integer()
      .min(30)
      .max(7 * 24 * 60)
      .default(30)
  }).default(),
  jobs: Joi.object({
    concurrency: Joi.number().integer().min(1).max(64).default(4),
    pollIntervalMs: Joi.number().integer().min(50).max(60_000).default(1000),
    // PostgreSQL: a notification on commit wakes the workers, so polling every second (about
    // 950 queries a minute when idle) is only a safety net for missed notifications. Ignored
    // on SQLCipher, which always polls.
    listen: yamlBoolean.default(true),
    // At most a minute: a lapsed claim (at most 4 minutes) is still taken over within 5 minutes.
    safetyPollIntervalMs: Joi.number().integer().min(50).max(60_000).default(30_000),
    // Stored fires are whole minutes, and the scheduler ticks on each one whatever this is:
    // a shorter interval only finds sooner a fire stored by hand at another time.
    schedulerIntervalMs: Joi.number().integer().min(50).max(60_000).default(60_000),
    pruneSuccessfulAfterHours: Joi.number()
      .min(1)
      .max(24 * 365)
      .default(168),
    shutdownTimeoutMs: Joi.number().integer().min(0).max(300_000).default(10_000),
    // Bounded so that timeout + margin stays within the queue's 4-minute lock ceiling.
    defaultTimeoutMs: Joi.number().integer().min(100).max(180_000).default(60_000),
    lockMarginMs: Joi.number().integer().min(100).max(60_000).default(30_000)
  }).default(),
  limits: Joi.object({
    // Every emergency contact is texted (and maybe called) at once when an alarm is raised:
    // the limit keeps one user's alarm from flooding the queue ahead of everyone else's.
    contactsPerUser: Joi.number().integer().min(1).max(1000).default(10),
    // A check-in is a text to a person's phone: hourly is already more than anyone needs,
    // and a cron firing every minute would text someone 1,440 times a day.
    minCheckInIntervalMinutes: Joi.number()
      .integer()
      .min(1)
      .max(24 * 60)
      .default(60),
    // Texts (alarms' never count) one user may be sent in 24 hours. 30 covers hourly check-ins
    // with follow-ups on a busy day and a few commands; beyond it only what may wait (command
    // replies, invitations) is refused, so nobody can run up a bill through Kronus.
    textsPerUserPerDay: Joi.number().integer().min(1).max(100_000).default(30),
    // The whole server's texts in 24 hours (alarms' never count); null: no limit. For an
    // operator with a fixed SMS budget; check-ins and alarms still go when it is reached.
    textsPerServerPerDay: Joi.number().integer().min(1).allow(null).default(null)
  }).default(),
  auth: Joi.object({
    maxFailedLogins: Joi.number().integer().min(1).max(1000).default(5),
    maxLoginDelayMinutes: Joi.number()
      .integer()
      .min(1)
      .max(24 * 60)
      .default(15),
    maxFailedLoginsPerAddress: Joi.number().integer().min(1).max(100_000).default(100),
    failedLoginWindowMinutes: Joi.number()
      .integer()
      .min(1)
      .max(24 * 60)
      .default(15),
    accessTokenTtlMinutes: Joi.number()
      .integer()
      .min(1)
      .max(30 * 24 * 60)
      .default(60),
    maxPasswordChangesPerHour: Joi.number().integer().min(1).max(1000).default(5)
  }).default(),
  metrics: Joi.object({
    // Short tokens can be guessed; a scrape leaks how many people are in trouble right now.
    token: Joi.string().trim().min(16).messages({
      'string.min': '{{#label}} must be at least 16 characters (e.g. the output of `openssl rand -hex 32`)'
    }),
    allowFrom: Joi.array().items(addressOrCidr).default([])
  }).default(),
  logging: Joi.object({
    level: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
    pretty: yamlBoolean
  }).default(),
  plugins: Joi.array().items(plugin).default([])
})
