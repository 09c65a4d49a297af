import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { KronusConfig, PluginEntry } from '../config/types.js'
import { asKronusPlugin } from './entry.js'
import { PluginError } from './host.js'

export interface BeforeDatabaseOpenDeps {
  config: KronusConfig
  logger: Logger
  clock: Clock
}

/**
 * Runs the plugins' beforeDatabaseOpen hooks in plugin order. The first that throws stops
 * start-up, so a hook that could not put the database in place never lets Kronus open
 * (and so create) an empty one instead.
 */
export async function runBeforeDatabaseOpen(
  entries: readonly PluginEntry[],
  deps: BeforeDatabaseOpenDeps
): Promise<void> {
  for (const entry of entries) {
    const plugin = asKronusPlugin(entry)
    if (!plugin.beforeDatabaseOpen) continue
    const { name } = plugin
    try {
      await plugin.beforeDatabaseOpen(
        { name, config: deps.config, logger: deps.logger.child({ plugin: name }), clock: deps.clock },
        plugin.options
      )
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new PluginError(name, `plugin "${name}" failed before the database was opened: ${reason}`, { cause: err })
    }
  }
}
