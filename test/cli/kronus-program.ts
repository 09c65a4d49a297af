import type { Command } from 'commander'
import { builtinPlugins, pluginCatalogue } from '../../plugins/index.js'
import { buildProgram } from '../../src/cli/program.js'

/** The `kronus` program as bin/kronus.js builds it: with the built-in plugins' commands. */
export function kronusProgram(): Command {
  return buildProgram({ catalogue: pluginCatalogue, implied: builtinPlugins })
}
