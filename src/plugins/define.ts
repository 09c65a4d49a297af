import Joi from 'joi'
import { EVENT_NAME_PATTERN } from '../events/names.js'
import type { KronusPlugin, PluginDefinition, PluginFactory, PluginMigration } from './types.js'

export type { PluginFactoryArgs } from './types.js'

/** Lower-case letters, digits and dashes: the name is also the plugin's URL prefix. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/

/**
 * Defines a plugin. The result is a factory that users call in kronus.config.ts
 * (`plugins: [myPlugin({ ... })]`); it validates the options there and then, so a wrong
 * option stops Kronus before anything starts, with a message naming the plugin and the option.
 */
export function definePlugin<Options = Record<string, never>>(
  definition: PluginDefinition<Options>
): PluginFactory<Options> {
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
  const migrations = checkedMigrations(name, definition.migrations)
  if (definition.commands !== undefined && typeof definition.commands !== 'function') {
    throw new Error(`plugin "${name}": commands must be a function`)
  }
  const schema = definition.options ?? Joi.object({})

  const factory: PluginFactory<Options> = (...args) => {
    const options = Joi.attempt(args[0] ?? {}, schema, `Bad options for ${name}:`, { abortEarly: false }) as Options
    const plugin: KronusPlugin<Options> = {
      name,
      version,
      options,
      events,
      publicPaths,
      tables,
      register: definition.register,
      migrations
    }
    if (definition.beforeDatabaseOpen) plugin.beforeDatabaseOpen = definition.beforeDatabaseOpen
    return plugin
  }
  // On the factory, not the configured plugin: the command line adds commands before it loads a configuration.
  return definition.commands ? Object.assign(factory, { commands: definition.commands }) : factory
}

/** Names are what a database records, so each must be there and unique within the plugin. */
function checkedMigrations(plugin: string, migrations: readonly PluginMigration[] = []): readonly PluginMigration[] {
  const names = new Set<string>()
  for (const migration of migrations) {
    const { name } = migration ?? {}
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      throw new Error(`plugin "${plugin}" declares a migration without a name (or one over 200 characters)`)
    }
    if (names.has(name)) throw new Error(`plugin "${plugin}" declares migration "${name}" twice`)
    if (typeof migration.up !== 'function' || typeof migration.down !== 'function') {
      throw new Error(`plugin "${plugin}": migration "${name}" needs up and down functions`)
    }
    names.add(name)
  }
  return [...migrations]
}
