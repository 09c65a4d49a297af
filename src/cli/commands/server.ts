import { rmSync } from 'node:fs'
import type { Command } from 'commander'
import type { Kronus } from '../../app.js'
import { devModeWarning } from '../../config/dev.js'
import { loadConfig } from '../../config/load.js'
import { limitHeapGrowth } from '../heap-growth.js'
import type { CliPlugins } from '../plugins.js'

export interface ServerOptions {
  config?: string
  dev?: boolean
}

// Bounds a shutdown that hangs (a stuck plugin or database) so a supervisor is never left waiting.
const STOP_TIMEOUT_MS = 30_000

// A terminal's Ctrl-C reaches every process of the group, and wrappers such as npm pass it on
// again, so one key press can arrive twice. Only a signal after this long means "stop now".
const REPEAT_SIGNAL_GRACE_MS = 2_000

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      const firstAt = Date.now()
      const force = (again: NodeJS.Signals) => {
        if (Date.now() - firstAt < REPEAT_SIGNAL_GRACE_MS) return
        process.stderr.write(`kronus: ${again} while stopping; exiting at once\n`)
        process.exit(1)
      }
      process.on('SIGINT', force)
      process.on('SIGTERM', force)
      resolve(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

async function stopWithin(kronus: Kronus, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not stop within ${ms / 1000} s`)), ms)
  })
  try {
    await Promise.race([kronus.stop(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs Kronus until SIGINT or SIGTERM, then stops it gracefully. */
export async function runServer(options: ServerOptions, impliedPlugins: CliPlugins['implied']): Promise<void> {
  limitHeapGrowth()
  const config = await loadConfig({
    file: options.config,
    dev: options.dev === true,
    cwd: process.cwd(),
    env: process.env
  })
  if (config.dev) process.stderr.write(devModeWarning(config))
  const stopSignal = waitForStopSignal()
  // Loaded here so `kronus --version`, `help` and `completion` stay quick and need no server code.
  const { createKronus, missingDatabaseFiles } = await import('../../app.js')
  const newFiles = missingDatabaseFiles(config)
  let kronus: Kronus | undefined
  try {
    // The built-in plugins the configuration implies come after the user's own.
    kronus = await createKronus({ config: { ...config, plugins: [...config.plugins, ...impliedPlugins(config)] } })
    await kronus.start()
  } catch (err) {
    await kronus?.stop().catch(() => undefined)
    // A first start that failed (a missing Twilio key, a busy port...) must not leave an
    // empty database behind, keyed with a passphrase the next try may not use.
    for (const file of newFiles) rmSync(file, { force: true })
    throw err
  }
  const signal = await stopSignal
  kronus.logger.info({ signal }, 'kronus stopping')
  await stopWithin(kronus, STOP_TIMEOUT_MS)
  kronus.logger.info('kronus stopped')
}

export function registerServerCommand(program: Command, impliedPlugins: CliPlugins['implied']): void {
  program
    .command('server')
    .description('Start a kronus server')
    .option(
      '--config <file>',
      'configuration file: .ts, .mts, .js, .mjs, .yml or .yaml (default: kronus.config.ts in the current folder)'
    )
    .option(
      '--dev',
      'run in development mode: no config file needed, data and generated secrets in ./dev, no texts sent'
    )
    .action(async (options: ServerOptions) => {
      await runServer(options, impliedPlugins)
      // Stopped cleanly; a timer or socket some part forgot must not keep the process alive.
      process.exit(0)
    })
}
