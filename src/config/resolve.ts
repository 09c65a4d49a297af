import { join } from 'node:path'
import { configSchema } from './schema.js'
import type { KronusConfig, KronusConfigInput } from './types.js'

/** A configuration that cannot be used; `problems` lists each one, naming its key or file. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    heading = 'invalid configuration'
  ) {
    super(`${heading}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

export interface ResolveOptions {
  /** First line of the error message, e.g. naming the file the configuration came from. */
  heading?: string
  /**
   * Where values that did not come from the file came from, by key path
   * (e.g. `kronus.privateKeyPem` → `KRONUS_PRIVATE_KEY_PEM`), so an error points at the right place.
   */
  sources?: ReadonlyMap<string, string>
}

/**
 * Validates a configuration and fills its defaults. Every problem is reported at once,
 * each naming the full key path, e.g. `kronus.listener.port must be less than or equal to 65535`.
 */
export function resolveConfig(
  input: KronusConfigInput & { dev?: boolean; dataDir?: string },
  options: ResolveOptions = {}
): KronusConfig {
  const { value, error } = configSchema.validate(input, {
    abortEarly: false,
    errors: { wrap: { label: false } }
  })
  if (error) {
    throw new ConfigError(
      error.details.map((d) => {
        const path = d.path.join('.')
        const message = d.message.startsWith(path) || path === '' ? d.message : `${path}: ${d.message}`
        const source = options.sources?.get(path)
        return source ? `${message} (value from ${source})` : message
      }),
      options.heading
    )
  }
  const config = value as KronusConfig
  config.database.filename ??= join(config.dataDir, 'kronus.db')
  return config
}
