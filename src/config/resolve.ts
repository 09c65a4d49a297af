
import { join } from 'node:path'
import { configSchema } from './schema.js'
import type { KronusConfig, KronusConfigInput } from './types.js'

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Validates a configuration and fills its defaults. Every problem is reported at once,
 * each naming the full key path, e.g. `kronus.listener.port must be less than or equal to 65535`.
 */
export function resolveConfig(input: KronusConfigInput & { dev?: boolean; dataDir?: string }): KronusConfig {
  const { value, error } = configSchema.validate(input, {
    abortEarly: false,
    errors: { wrap: { label: false } }
  })
  if (error) {
    throw new ConfigError(
      error.details.map((d) => {
        const path = d.path.join('.')
        return d.message.startsWith(path) || path === '' ? d.message : `${path}: ${d.message}`
      })
    )
  }
  const config = value as KronusConfig
  config.database.filename ??= join(config.dataDir, 'kronus.db')
  return config
}

