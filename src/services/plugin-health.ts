import type { Knex } from 'knex'
import type { Clock } from '../clock.js'

const TABLE = 'plugin_health'

/** A plugin that said it is degraded, and why. */
export interface PluginTrouble {
  plugin: string
  reason: string
  /** When it first said so, since it last recovered (epoch ms). */
  since: number
}

/** The rows of the degraded plugins among `plugins` (a query to run or to test for rows). */
export function troubledPlugins(knex: Knex, plugins: readonly string[]): Knex.QueryBuilder {
  return knex(TABLE).whereIn('plugin', [...plugins])
}

/**
 * What plugins say of their own health (`kronus.health` in their context), one row per
 * degraded plugin in `plugin_health`, so every instance's watchdog and /health see it.
 */
export class PluginHealthStore {
  constructor(
    private readonly knex: Knex,
    private readonly clock: Clock
  ) {}

  /** `plugin` is degraded for `reason`; said again, the reason is updated and `since` kept. */
  async degraded(plugin: string, reason: string, trx?: Knex.Transaction): Promise<void> {
    const now = this.clock.now()
    await (trx ?? this.knex)(TABLE)
      .insert({ plugin, reason, since: now, updated_at: now })
      .onConflict('plugin')
      .merge(['reason', 'updated_at'])
  }

  /** `plugin` is well again (nothing happens when it was not degraded). */
  async recovered(plugin: string, trx?: Knex.Transaction): Promise<void> {
    await (trx ?? this.knex)(TABLE).where({ plugin }).delete()
  }

  /** The degraded plugins among `plugins` (the configured ones: a removed plugin's row says nothing now). */
  async troubled(plugins: readonly string[]): Promise<PluginTrouble[]> {
    if (plugins.length === 0) return []
    const rows: Array<{ plugin: string; reason: string; since: number | string }> = await troubledPlugins(
      this.knex,
      plugins
    ).orderBy('plugin')
    return rows.map((row) => ({ plugin: row.plugin, reason: row.reason, since: Number(row.since) }))
  }
}
