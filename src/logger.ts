import { createRequire } from 'node:module'
import pino, { type Logger, type LoggerOptions } from 'pino'
import type PinoPretty from 'pino-pretty'
import type { KronusConfig } from './config/types.js'

export type { Logger }

const require = createRequire(import.meta.url)

export function createLogger(config: Pick<KronusConfig, 'logging' | 'dev'>): Logger {
  const pretty = config.logging.pretty ?? config.dev
  const options: LoggerOptions = {
    level: config.logging.level,
    redact: [
      'req.headers.authorization',
      'req.headers.cookie',
      '*.password',
      '*.authToken',
      '*.privateKeyPem',
      '*.passPhrase'
    ]
  }
  if (!pretty) return pino(options)
  // Pretty logs are formatted in this thread, not in a pino transport: a transport is a
  // worker thread with its own V8 heap (about 12 MiB RSS) for what is a terminal in
  // development. Loaded only here, so JSON logs never load it.
  const prettyStream = require('pino-pretty') as typeof PinoPretty
  // One line per entry: a request is its message ("[response] post /v1/users 201 (92ms)"),
  // without hapi-pino's request and response objects (about 25 lines each), so the texts
  // dev mode prints stay visible. JSON logs keep them for production.
  return pino(
    options,
    prettyStream({ translateTime: 'SYS:standard', ignore: 'pid,hostname,req,res,responseTime', singleLine: true })
  )
}
