import { Command } from 'commander'
import { VERSION } from '../version.js'
import { commands } from './commands/index.js'
import type { CliPlugins } from './plugins.js'

/**
 * The `kronus` command line. Settings are made before the commands are added so every
 * subcommand inherits them (commander copies them in `.command()`).
 */
export function buildProgram(plugins: CliPlugins): Command {
  const program = new Command('kronus')
    .description('Kronus checks on people by text message and alerts their emergency contacts when they need help.')
    .version(VERSION, '-v, --version', 'output the version number')
    .helpOption('-h, --help', 'display help for a command')
    .helpCommand('help [command]', 'display help for a command')
    .showHelpAfterError('(run "kronus help" for usage)')
    .exitOverride()
  for (const register of commands(plugins)) register(program)
  return program
}
