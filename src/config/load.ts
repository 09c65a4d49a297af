import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { KronusModules } from './compile-module.js'
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

/** Kronus's own modules, which a configuration's imports of 'kronus' and of Kronus's files go to. */
function runningKronus(): KronusModules {
  return {
    root: dirname(createRequire(import.meta.url).resolve('kronus/package.json')),
    // Running from src/*.ts means a TypeScript loader is registered (the tests).
    fromBuild: !import.meta.url.endsWith('.ts')
  }
}

/**
 * Imports a .ts/.mts/.js/.mjs configuration, compiled first by esbuild with the user's files it
 * imports (src/config/compile-module.ts) into one module in a temp folder, removed once
 * imported. No loader hook is registered: on Node 20 one runs in a thread with a V8 heap of
 * its own, 40 MiB or more for the life of the server. A JavaScript configuration is compiled
 * too, as it may import plugins written in TypeScript. Source maps are turned on so that a
 * stack trace through the configuration names its own lines.
 */
async function importModuleConfig(file: string): Promise<KronusConfigInput> {
  let exported: unknown
  const dir = mkdtempSync(join(tmpdir(), 'kronus-config-'))
  try {
    const compiled = join(dir, `${basename(file)}.mjs`)
    const { compileModule } = await import('./compile-module.js')
    await compileModule(file, compiled, runningKronus())
    process.setSourceMapsEnabled(true)
    const mod = (await import(pathToFileURL(compiled).href)) as { default?: unknown }
    exported = mod.default
    // No configuration key is called "default", so this can only be a CommonJS module's exports
    // holding an ES module's default.
    if (isPlainObject(exported) && 'default' in exported) exported = exported.default
  } catch (err) {
    const problems = (err as { problems?: unknown }).problems
    throw new ConfigError(
      Array.isArray(problems) ? (problems as string[]) : [(err as Error).message],
      `cannot load configuration file ${file}`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
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
    // Loaded on use, like esbuild for modules: the YAML parser is 70 files every command would load.
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
