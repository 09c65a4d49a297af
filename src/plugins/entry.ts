import type { PluginEntry } from '../config/types.js'
import type { KronusPlugin } from './types.js'

/**
 * The configuration holds plugins as PluginEntry, a shape it can name without importing
 * the host; definePlugin made each of them a KronusPlugin. This is where the host takes
 * them back at their full type, the one place that trusts that promise.
 */
export function asKronusPlugin(entry: PluginEntry): KronusPlugin<unknown> {
  return entry as KronusPlugin<unknown>
}
