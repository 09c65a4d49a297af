import Joi from 'joi'
import { EVENT_NAME_PATTERN } from '../events/names.js'
import type { KronusPlugin, PluginDefinition } from './types.js'

/** Lower-case letters, digits and dashes: the name is also the plugin's URL prefix. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/** Optional when every option may be left out, required otherwise. */
export type PluginFactoryArgs<Options> = {} extends Options ? [options?: Options] : [options: Options]

/**
 * Defines a plugin. The result is a factory that users call in kronus.config.ts
 * (`plugins: [myPlugin({ ... })]`); it validates the options there and then, so a wrong
 * option stops Kronus before anything starts, with a message naming the plugin and the option.
 */
export function definePlugin<Options = Record<string, never>>(
  definition: PluginDefinition<Options>
): (...args: PluginFactoryArgs<Options>) => KronusPlugin<Options> {
  const { name, version } = definition
  if (typeof name !== 'string' || !PLUGIN_NAME_PATTERN.test(name)) {
    throw new Error(`plugin name ${JSON.stringify(name)} must be lower-case letters, digits and dashes`)
  }
  if (typeof version !== 'string' || version.length === 0) throw new Error(`plugin "${name}" needs a version`)
  if (typeof definition.register !== 'function') throw new Error(`plugin "${name}" needs a register function`)
  if (definition.beforeDatabaseOpen !== undefined && typeof definition.beforeDatabaseOpen !== 'function') {
    throw new Error(`plugin "${name}": beforeDatabaseOpen must be a function`)
  }
  const events = [...(definition.events ?? [])]
  for (const event of events) {
    if (!EVENT_NAME_PATTERN.test(event)) throw new Error(`plugin "${name}" declares an invalid event name "${event}"`)
  }
  const publicPaths = [...(definition.publicPaths ?? [])]
  for (const path of publicPaths) {
    if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('/plugins/')) {
      throw new Error(`plugin "${name}" declares an invalid public path ${JSON.stringify(path)}`)
    }
  }
  const tables = [...(definition.tables ?? [])]
  for (const table of tables) {
    if (typeof table !== 'string' || !/^[a-z][a-z0-9_]*$/.test(table)) {
      throw new Error(`plugin "${name}" declares an invalid table name ${JSON.stringify(table)}`)
    }
  }
  const schema = definition.options ?? Joi.object({})

  return (...args) => {
    const options = Joi.attempt(args[0] ?? {}, schema, `Bad options for ${name}:`, { abortEarly: false }) as Options
    const plugin: KronusPlugin<Options> = { name, version, options, events, publicPaths, tables, register: definition.register }
    if (definition.beforeDatabaseOpen) plugin.beforeDatabaseOpen = definition.beforeDatabaseOpen
    return plugin
  }
}
