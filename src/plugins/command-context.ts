import { systemClock } from '../clock.js'
import { loadConfig } from '../config/load.js'
import type { PluginCommandContext } from './types.js'

/** What a plugin's commands get from the command line: the process's configuration, clock, database and output. */
export function pluginCommandContext(): PluginCommandContext {
  return {
    loadConfig: (file, options) =>
      loadConfig({ file, dev: options?.dev === true, cwd: process.cwd(), env: process.env }),
    // Loaded on use: knex and the database drivers would otherwise slow every command, --version too.
    openDatabase: async (config) =>
      (await import('../db/open.js')).openDatabase({
        client: config.database.client,
        filename: config.database.filename,
        passPhrase: config.kronus.sqlite.passPhrase,
        connection: config.database.connection
      }),
    clock: systemClock,
    stdout: process.stdout,
    stderr: process.stderr
  }
}
