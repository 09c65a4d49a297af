import type { Command } from 'commander'
import { pluginCommandContext } from '../../plugins/command-context.js'
import type { CliPlugins } from '../plugins.js'
import { registerCompletionCommand } from './completion.js'
import { registerServerCommand } from './server.js'
import { registerUserCommand } from './user.js'

/** Adds one subcommand to the program. A new command is a new file here and one line below. */
export type RegisterCommand = (program: Command) => void

/** The core's commands, with the built-in plugins' commands between `server` and `completion`. */
export function commands(plugins: CliPlugins): readonly RegisterCommand[] {
  const context = pluginCommandContext()
  const pluginCommands = plugins.catalogue.flatMap((factory): RegisterCommand[] => {
    const { commands } = factory
    return commands ? [(program) => commands(program, context)] : []
  })
  return [
    (program) => registerServerCommand(program, plugins.implied),
    (program) => registerUserCommand(program, plugins.implied),
    ...pluginCommands,
    registerCompletionCommand
  ]
}
