import type { Command } from 'commander'
import { registerBackupCommand } from './backup.js'
import { registerCompletionCommand } from './completion.js'
import { registerRestoreCommand } from './restore.js'
import { registerServerCommand } from './server.js'

/** Adds one subcommand to the program. A new command is a new file here and one line below. */
export type RegisterCommand = (program: Command) => void

export const COMMANDS: readonly RegisterCommand[] = [registerServerCommand, registerBackupCommand, registerRestoreCommand, registerCompletionCommand]
