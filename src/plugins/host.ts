import type { PluginEntry } from '../config/types.js'
import { createPluginContext, type PluginHostDeps } from './context.js'
import { asKronusPlugin } from './entry.js'
import type { PluginLifecycle } from './types.js'

/** A plugin that could not be loaded, started or stopped; the message names it. */
export class PluginError extends Error {
  constructor(
    readonly plugin: string,
    message: string,
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'PluginError'
  }
}

interface LoadedPlugin {
  name: string
  lifecycle: PluginLifecycle
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Loads the configured plugins in order, starts them in that order and stops them in
 * reverse, so a plugin may rely on the ones listed before it.
 */
export class PluginHost {
  readonly #deps: PluginHostDeps
  readonly #loaded: LoadedPlugin[] = []
  readonly #started: LoadedPlugin[] = []

  constructor(deps: PluginHostDeps) {
    this.#deps = deps
  }

  /** Calls each plugin's register; the first that throws stops start-up with an error naming it. */
  async register(entries: readonly PluginEntry[]): Promise<void> {
    const seen = new Set<string>()
    const publicPathOwners = new Map<string, string>()
    for (const entry of entries) {
      const plugin = asKronusPlugin(entry)
      const name = plugin?.name
      if (seen.has(name)) throw new PluginError(name, `plugin "${name}" is listed twice in plugins`)
      seen.add(name)
      for (const path of plugin.publicPaths ?? []) {
        const owner = publicPathOwners.get(path)
        if (owner)
          throw new PluginError(name, `plugin "${name}" declares ${path}, which plugin "${owner}" already serves`)
        publicPathOwners.set(path, name)
      }
      try {
        for (const event of plugin.events ?? []) this.#deps.events.declare(event)
        const context = await createPluginContext(plugin, this.#deps)
        const lifecycle = (await plugin.register(context, plugin.options)) ?? {}
        this.#loaded.push({ name, lifecycle })
      } catch (err) {
        throw new PluginError(name, `plugin "${name}" failed to register: ${reason(err)}`, { cause: err })
      }
    }
  }

  /** Starts plugins in order; if one fails, those already started are stopped again. */
  async start(): Promise<void> {
    for (const plugin of this.#loaded) {
      try {
        await plugin.lifecycle.start?.()
      } catch (err) {
        await this.stop()
        throw new PluginError(plugin.name, `plugin "${plugin.name}" failed to start: ${reason(err)}`, { cause: err })
      }
      this.#started.push(plugin)
    }
    // Says which configuration ran: a plugin listed in kronus.config.ts that is missing here was never loaded.
    if (this.#started.length > 0) {
      const names = this.#started.map((plugin) => plugin.name)
      this.#deps.logger.info({ plugins: names }, `plugins started: ${names.join(', ')}`)
    }
  }

  /** Stops started plugins in reverse order; one that fails to stop is logged and the others still stop. */
  async stop(): Promise<void> {
    while (this.#started.length > 0) {
      const plugin = this.#started.pop()!
      try {
        await plugin.lifecycle.stop?.()
      } catch (err) {
        this.#deps.logger.error({ err, plugin: plugin.name }, 'plugin failed to stop')
      }
    }
  }
}
