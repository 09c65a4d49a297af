import { type Command, CommanderError } from 'commander'
import { ConfigError } from '../config/resolve.js'
import type { CliPlugins } from './plugins.js'
import { buildProgram } from './program.js'

/** Exit codes: 0 done, 1 could not run (bad configuration, start-up failure), 2 bad usage. */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

const SUCCESSFUL_COMMANDER_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version'])

function isCommandName(program: Command, name: string): boolean {
  return name === 'help' || program.commands.some((c) => c.name() === name || c.aliases().includes(name))
}

function describeError(err: unknown, env: NodeJS.ProcessEnv): string {
  if (err instanceof ConfigError) return err.message
  if (err instanceof Error) return env.KRONUS_DEBUG ? (err.stack ?? err.message) : err.message
  return String(err)
}

/**
 * Runs the `kronus` command line. Commander has already printed its own usage errors;
 * other errors are printed here, without a stack trace (KRONUS_DEBUG=1 shows it).
 * `plugins` are the built-in plugins (see CliPlugins).
 */
export async function main(argv: string[], plugins: CliPlugins): Promise<void> {
  const program = buildProgram(plugins)
  const [first, second] = argv.slice(2)
  if (first === undefined) {
    program.outputHelp()
    return
  }
  // Commander answers `help <unknown>` with the general usage and exit 0; that hides a typo.
  if (first === 'help' && second !== undefined && !second.startsWith('-') && !isCommandName(program, second)) {
    process.stderr.write(`error: unknown command '${second}'\n(run "kronus help" for usage)\n`)
    process.exitCode = EXIT_USAGE
    return
  }
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = SUCCESSFUL_COMMANDER_EXITS.has(err.code) ? 0 : EXIT_USAGE
      return
    }
    process.stderr.write(`kronus: ${describeError(err, process.env)}\n`)
    process.exit(EXIT_FAILURE)
  }
}
