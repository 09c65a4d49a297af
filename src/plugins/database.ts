import type { Knex } from 'knex'

/**
 * A plugin's own corner of the database. Its tables are the ones it declares in `tables`
 * (its migrations create them); `table()` refuses every other name, so a plugin reaches
 * Kronus's records only through the facades.
 */
export interface PluginDatabase {
  /** The tables the plugin declared as its own. */
  readonly tables: readonly string[]
  /** A query on one of the plugin's own tables, in `trx` when given. Any other table throws. */
  table<Row extends {} = any, Result = any[]>(name: string, trx?: Knex.Transaction): Knex.QueryBuilder<Row, Result>
  /**
   * Runs `fn` in one transaction and commits when it resolves. Pass its `trx` to table() and
   * to the facades (events.record, jobs.enqueue, messaging.send...) to commit all together.
   */
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T>
  /**
   * The whole database, every table, unscoped. Only for copying the database as a whole
   * (gcs-backup's snapshot); everything else goes through table() and the facades.
   */
  readonly wholeDatabaseForBackup: Knex
}

export function scopedDatabase(plugin: string, tables: readonly string[], knex: Knex): PluginDatabase {
  const owned = new Set(tables)
  return {
    tables: [...tables],
    table: <Row extends {}, Result>(name: string, trx?: Knex.Transaction) => {
      if (!owned.has(name))
        throw new Error(`plugin "${plugin}" may not use table "${name}": only the tables it declares in tables`)
      return (trx ?? knex)<Row, Result>(name)
    },
    transaction: (fn) => knex.transaction(fn),
    wholeDatabaseForBackup: knex
  }
}
