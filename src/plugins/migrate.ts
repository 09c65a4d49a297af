import type { Knex } from 'knex'
import { PluginError } from './host.js'
import type { KronusPlugin } from './types.js'

/** Where each plugin's migrations are recorded, by (plugin, name): core migration 0010. */
export const PLUGIN_MIGRATIONS_TABLE = 'plugin_migrations'

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Runs the configured plugins' migrations that this database has not run yet, plugin by
 * plugin in configuration order, each plugin's in its own order, each in a transaction
 * with the row that records it. Call it right after the core migrations, under the same
 * lock (migrateLatest's `after`). Plugins that are not configured are left alone: their
 * tables are made when a configuration first lists them, and kept when it no longer does.
 */
export async function migratePlugins(knex: Knex, plugins: readonly KronusPlugin<any>[]): Promise<void> {
  for (const plugin of plugins) {
    const { name } = plugin
    const migrations = plugin.migrations ?? []
    const done = new Set<string>(
      (await knex(PLUGIN_MIGRATIONS_TABLE).where({ plugin: name }).pluck('name')) as string[]
    )
    // As knex does for the core: a database migrated by a newer version must not be run by an older one.
    const unknown = [...done].filter((recorded) => !migrations.some((migration) => migration.name === recorded))
    if (unknown.length > 0) {
      throw new PluginError(
        name,
        `plugin "${name}": this database ran its migration(s) ${unknown.join(', ')}, which this version of the plugin does not have; was it made by a newer version?`
      )
    }
    for (const migration of migrations) {
      if (done.has(migration.name)) continue
      try {
        await knex.transaction(async (trx) => {
          await migration.up(trx)
          // Wall time, as knex records its own: when it ran, for whoever reads the table, not a clock of Kronus's.
          await trx(PLUGIN_MIGRATIONS_TABLE).insert({ plugin: name, name: migration.name, migrated_at: Date.now() })
        })
      } catch (err) {
        throw new PluginError(name, `plugin "${name}": migration "${migration.name}" failed: ${reason(err)}`, {
          cause: err
        })
      }
    }
  }
}

/**
 * Undoes every migration a plugin recorded, newest first, each in a transaction with the
 * removal of its record: for taking a plugin out of a database for good (its tables go).
 */
export async function rollbackPlugin(knex: Knex, plugin: KronusPlugin<any>): Promise<void> {
  const { name } = plugin
  const done = new Set<string>((await knex(PLUGIN_MIGRATIONS_TABLE).where({ plugin: name }).pluck('name')) as string[])
  for (const migration of [...(plugin.migrations ?? [])].reverse()) {
    if (!done.has(migration.name)) continue
    try {
      await knex.transaction(async (trx) => {
        await migration.down(trx)
        await trx(PLUGIN_MIGRATIONS_TABLE).where({ plugin: name, name: migration.name }).delete()
      })
    } catch (err) {
      throw new PluginError(name, `plugin "${name}": undoing migration "${migration.name}" failed: ${reason(err)}`, {
        cause: err
      })
    }
  }
}
