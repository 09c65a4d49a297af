import { existsSync, readFileSync, statSync } from 'node:fs'
import { extname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { applyDevMode } from './dev.js'
import { applyPortEnv, applySecretEnv } from './env.js'
import { fillAt, getAt } from './key-path.js'
import { ConfigError, resolveConfig } from './resolve.js'
import type { KronusConfig, KronusConfigInput } from './types.js'

export interface LoadConfigOptions {
  /** Configuration file, relative to `cwd`. Without one, kronus.config.* in `cwd` is used (in dev mode, when there is one). */
  file?: string
  dev: boolean
  env?: Readonly<Record<string, string | undefined>>
  /** Folder that relative paths, ./dev and the default configuration file are found from. */
  cwd: string
}

const MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs']
const YAML_EXTENSIONS = ['.yml', '.yaml']

/** Looked for, in this order, when `kronus server` is given no --config. */
export const DEFAULT_CONFIG_FILES = MODULE_EXTENSIONS.map((ext) => `kronus.config${ext}`)

function cannotLoad(file: string, problem: string): ConfigError {
  return new ConfigError([problem], `cannot load configuration file ${file}`)
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// Node's complaints about a module in a CommonJS folder, not about the file's own content.
const MODULE_FORMAT_ERRORS = new Set(['ERR_REQUIRE_CYCLE_MODULE', 'ERR_REQUIRE_ESM', 'ERR_REQUIRE_ASYNC_MODULE'])

let typescriptLoader: Promise<typeof import('tsx/esm/api')> | undefined

/**
 * tsx, and the compiler it brings (about 30 MiB), is loaded only for a configuration that is
 * a module: `kronus --version`, `kronus server --dev` and a server started from YAML never load
 * it. A JavaScript configuration gets it too, as it may import plugins written in TypeScript.
 * Registered once per process, for every module imported after.
 */
function loadTypeScriptSupport(): Promise<typeof import('tsx/esm/api')> {
  typescriptLoader ??= import('tsx/esm/api').then((tsx) => {
    tsx.register()
    return tsx
  })
  return typescriptLoader
}

/**
 * Imports a .ts/.mts/.js/.mjs configuration. A plain import comes first: modules the file
 * shares with Kronus (the plugin API, error classes) are then the very same instances, so
 * `instanceof` and module state work across them. A file in a folder without
 * `"type": "module"` (e.g. /etc/kronus/kronus.config.ts) may not load that way; tsx then
 * loads it on its own, compiled to CommonJS, its default export one level deeper.
 */
async function importModuleConfig(file: string): Promise<KronusConfigInput> {
  let exported: unknown
  try {
    let mod: { default?: unknown }
    const { tsImport } = await loadTypeScriptSupport()
    try {
      mod = await import(pathToFileURL(file).href)
    } catch (err) {
      // A SyntaxError from Node itself has no position; tsx's own compile error names the line.
      if (!(err instanceof SyntaxError) && !MODULE_FORMAT_ERRORS.has((err as NodeJS.ErrnoException).code ?? ''))
        throw err
      mod = (await tsImport(file, import.meta.url)) as { default?: unknown }
    }
    exported = mod.default
    // No configuration key is called "default", so this can only be the CommonJS wrapper.
    if (isPlainObject(exported) && 'default' in exported) exported = exported.default
  } catch (err) {
    throw cannotLoad(file, (err as Error).message)
  }
  if (!isPlainObject(exported)) {
    throw cannotLoad(file, 'its default export must be the configuration object: export default defineConfig({ ... })')
  }
  return exported as KronusConfigInput
}

/** Reads one configuration file, by its extension, as the input object the user wrote. */
export async function readConfigFile(file: string): Promise<KronusConfigInput> {
  if (!existsSync(file)) throw cannotLoad(file, 'file not found')
  if (!statSync(file).isFile()) throw cannotLoad(file, 'not a file')
  const ext = extname(file).toLowerCase()
  if (MODULE_EXTENSIONS.includes(ext)) return importModuleConfig(file)
  if (YAML_EXTENSIONS.includes(ext)) {
    // Loaded on use, like tsx for modules: the YAML parser is 70 files every command would load.
    const { parseYamlConfig } = await import('./yaml.js')
    return parseYamlConfig(readFileSync(file, 'utf8'), file) as KronusConfigInput
  }
  throw cannotLoad(
    file,
    `unsupported file type "${ext}"; use one of ${[...MODULE_EXTENSIONS, ...YAML_EXTENSIONS].join(' ')}`
  )
}

function findDefaultConfigFile(cwd: string): string | undefined {
  return DEFAULT_CONFIG_FILES.map((name) => join(cwd, name)).find((path) => existsSync(path))
}

/**
 * Builds the configuration Kronus runs with. Precedence, highest first:
 *   1. KRONUS_PORT, which always sets the port;
 *   2. the configuration file;
 *   3. secrets from the environment (KRONUS_PRIVATE_KEY_PEM or KRONUS_PRIVATE_KEY_FILE,
 *      KRONUS_SQLITE_PASSPHRASE, KRONUS_DATABASE_URL, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN,
 *      TWILIO_MESSAGING_SERVICE_SID, GOOGLE_APPLICATION_CREDENTIALS), used only where the file has no value;
 *   4. in dev mode, secrets generated once and kept in ./dev;
 *   5. the defaults of the schema.
 * Dev mode also forces backups off. Errors name the file, the key and, for values that did
 * not come from the file, where they came from.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<KronusConfig> {
  const { cwd, dev } = options
  const env = options.env ?? process.env
  let file: string | undefined
  if (options.file !== undefined) file = isAbsolute(options.file) ? options.file : resolve(cwd, options.file)
  else {
    // Dev mode too: plugins are registered in kronus.config.ts, and `npm run dev` must run them.
    file = findDefaultConfigFile(cwd)
    if (!file && !dev) {
      throw new ConfigError(
        [
          `no ${DEFAULT_CONFIG_FILES.join(', ')} in ${cwd}: pass --config FILE, or run "kronus server --dev" to try Kronus without one`
        ],
        'no configuration'
      )
    }
  }

  const sources = new Map<string, string>()
  let input: KronusConfigInput & { dataDir?: string } = file ? await readConfigFile(file) : {}
  input = applySecretEnv(input, env, cwd, sources)
  input = dev
    ? applyDevMode(input, cwd, sources)
    : { ...input, dataDir: typeof input.dataDir === 'string' ? resolve(cwd, input.dataDir) : (input.dataDir ?? cwd) }
  input = applyPortEnv(input, env, sources)
  const port = getAt(input, ['kronus', 'listener', 'port'])
  if (dev)
    input = fillAt(
      input,
      ['kronus', 'publicUrl'],
      `http://localhost:${typeof port === 'number' || typeof port === 'string' ? port : 3900}`
    )

  const config = resolveConfig(
    { ...input, dev },
    { heading: file ? `invalid configuration in ${file}` : 'invalid configuration', sources }
  )
  config.database.filename = resolve(cwd, config.database.filename)
  return config
}
