import type { Command } from 'commander'
import { registerCompletionCommand } from './completion.js'
import { registerServerCommand } from './server.js'

/** Adds one subcommand to the program. A new command is a new file here and one line below. */
export type RegisterCommand = (program: Command) => void

export const COMMANDS: readonly RegisterCommand[] = [registerServerCommand, registerCompletionCommand]
