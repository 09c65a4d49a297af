import pino, { type Logger } from 'pino'
import type { KronusConfig } from './config/types.js'

export type { Logger }

export function createLogger(config: Pick<KronusConfig, 'logging' | 'dev'>): Logger {
  const pretty = config.logging.pretty ?? config.dev
  return pino({
    level: config.logging.level,
    redact: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.authToken', '*.privateKeyPem', '*.passPhrase'],
    transport: pretty ? { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' } } : undefined
  })
}
