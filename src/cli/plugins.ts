import type { KronusConfig } from '../config/types.js'
import type { KronusPlugin, PluginFactory } from '../plugins/types.js'

/**
 * The plugins the command line works with, handed to main() by the package's composition
 * root (bin/kronus.js), so the core CLI knows no plugin by name.
 */
export interface CliPlugins {
  /** Factories of the plugins that ship with Kronus: their commands join the program. */
  catalogue: readonly PluginFactory<any>[]
  /** The built-in plugins a configuration implies and does not list; `kronus server` adds them after the listed ones. */
  implied(config: KronusConfig): KronusPlugin<any>[]
}
