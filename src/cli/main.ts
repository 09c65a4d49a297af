import { CommanderError } from 'commander'
import { ConfigError } from '../config/resolve.js'
import { buildProgram } from './program.js'

/** Exit codes: 0 done, 1 could not run (bad configuration, start-up failure), 2 bad usage. */
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

const SUCCESSFUL_COMMANDER_EXITS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version'])

/**
 * Runs the `kronus` command line. Commander has already printed its own usage errors;
 * other errors are printed here, without a stack trace, for the user to act on.
 */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram()
  if (argv.length <= 2) {
    program.outputHelp()
    return
  }
  try {
    await program.parseAsync(argv)
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = SUCCESSFUL_COMMANDER_EXITS.has(err.code) ? 0 : EXIT_USAGE
      return
    }
    process.stderr.write(err instanceof ConfigError ? `kronus: ${err.message}\n` : `kronus: ${(err as Error).message ?? err}\n`)
    process.exit(EXIT_FAILURE)
  }
}
