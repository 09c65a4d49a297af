import Joi from 'joi'
import { isValidTimeZone } from '../util/time.js'
import { isValidCron } from '../scheduling/cron.js'

const cronString = Joi.string().custom((value: string, helpers) => {
  if (!isValidCron(value)) return helpers.error('any.invalid')
  return value
}, 'five-field cron expression').messages({ 'any.invalid': '{{#label}} must be a valid 5-field cron expression' })

const timeZone = Joi.string().custom((value: string, helpers) => {
  if (!isValidTimeZone(value)) return helpers.error('any.invalid')
  return value
}, 'IANA time zone').messages({ 'any.invalid': '{{#label}} must be an IANA time zone such as "America/Toronto"' })

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
    privateKeyPem: Joi.string().trim().pattern(/-----BEGIN (RSA )?PRIVATE KEY-----/).required()
      .messages({ 'string.pattern.base': '{{#label}} must be a PEM-encoded RSA private key' }),
    publicUrl: Joi.string().trim().default('http://localhost:3900'),
    cron: Joi.object({ timeZone: timeZone.default('UTC') }).default(),
    listener: Joi.object({
      port: Joi.number().integer().min(0).max(65535).default(3900),
      host: Joi.string().default('0.0.0.0')
    }).default(),
    sqlite: Joi.object({ passPhrase: Joi.string().min(1) }).default()
  }).required(),
  google: Joi.object({
    storage: Joi.object({
      bucket: Joi.string(),
      prefix: Joi.string().allow('').default('kronus'),
      sqliteBackupSchedule: cronString.default('*/15 * * * *'),
      enableSqliteBackupAndSync: Joi.boolean().default(false)
    }).default(),
    applicationCredentials: Joi.string()
  }).default(),
  twilio: Joi.object({
    accountSid: Joi.string(),
    authToken: Joi.string(),
    messagingServiceSid: Joi.string()
  }).default(),
  database: Joi.object({
    client: Joi.string().valid('sqlcipher', 'postgres').default('sqlcipher'),
    filename: Joi.string(),
    connection: Joi.string().when('client', { is: 'postgres', then: Joi.required() })
  }).default(),
  probes: Joi.object({
    onDemandDailyLimit: Joi.number().integer().min(0).max(1000).default(10),
    missedFireGraceMinutes: Joi.number().integer().min(0).max(7 * 24 * 60).default(60)
  }).default(),
  auth: Joi.object({
    maxFailedLogins: Joi.number().integer().min(1).max(1000).default(10),
    failedLoginWindowMinutes: Joi.number().integer().min(1).max(24 * 60).default(15)
  }).default(),
  logging: Joi.object({
    level: Joi.string().valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').default('info'),
    pretty: Joi.boolean()
  }).default(),
  plugins: Joi.array().items(plugin).default([])
})
  // The SQLCipher database cannot be opened without its passphrase.
  .custom((value, helpers) => {
    if (value.database.client === 'sqlcipher' && !value.kronus.sqlite.passPhrase) {
      return helpers.error('any.custom', { error: new Error('kronus.sqlite.passPhrase is required for the sqlcipher database') })
    }
    return value
  })
