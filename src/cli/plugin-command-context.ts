import { systemClock } from '../clock.js'
import { loadConfig } from '../config/load.js'
import { openDatabase } from '../db/open.js'
import type { PluginCommandContext } from '../plugins/types.js'

/** What a plugin's commands get from the command line: the process's configuration, clock, database and output. */
export function pluginCommandContext(): PluginCommandContext {
  return {
    loadConfig: (file) => loadConfig({ file, dev: false, cwd: process.cwd(), env: process.env }),
    openDatabase: (config) => openDatabase(config),
    clock: systemClock,
    stdout: process.stdout,
    stderr: process.stderr
  }
}
