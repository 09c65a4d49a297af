/*
 * The resident memory of an idle `kronus server` (issue 17, point 4: under 100 MiB with the
 * built-in plugins loaded). Unlike the other cases this one runs the real command, the build
 * in dist/ started by bin/kronus.js, with a YAML configuration or a kronus.config.ts (compiled
 * by esbuild on start, src/config/compile-module.ts), on a fresh database, and reads its RSS
 * from /proc (Linux only).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { type BenchDatabaseSpec, PASSPHRASE } from './lib/database.js'
import { type ResultRow, row } from './lib/result.js'

export const SERVER_RSS_TARGET_MIB = 100

const ROOT = new URL('..', import.meta.url).pathname
const BIN = join(ROOT, 'bin', 'kronus.js')
const MIB = 1024 * 1024

export interface ServerRssParams {
  /** How long the server is left idle after /health first answers. */
  seconds: number
  /** Node flags of the server process (the `kronus` command's, see lib/child.ts). */
  nodeArgs: string[]
  /** The configuration file the server is started with: config.yml or kronus.config.ts. */
  config: ServerRssConfig
}

export const SERVER_RSS_CONFIGS = ['yaml', 'typescript'] as const
export type ServerRssConfig = (typeof SERVER_RSS_CONFIGS)[number]

export interface ServerRssMeasurement {
  /** VmRSS after `seconds` idle. */
  rss: number
  /** VmRSS 30 s after /health answered (before V8 shrinks its young generation), when the window is that long. */
  rssAt30s: number | null
  /** VmHWM: the highest RSS since the process started. */
  peak: number
  /** Anonymous (private) memory at the end; the rest of RSS is mapped files, mostly the node binary, shared with other node processes. */
  anonymous: number
  seconds: number
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

/** A kB field of /proc/<pid>/status or smaps_rollup, in bytes. */
function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number {
  const match = readFileSync(`/proc/${pid}/${file}`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  if (!match) throw new Error(`no ${field} in /proc/${pid}/${file}`)
  return Number(match[1]) * 1024
}

/** The same settings as yamlConfig, as an operator's kronus.config.ts would hold them. */
function typescriptConfig(spec: BenchDatabaseSpec, privateKeyPem: string): string {
  const database =
    spec.kind === 'postgres'
      ? {
          client: 'postgres',
          connection: `${spec.url}${spec.url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${spec.schema}`)}`
        }
      : { client: 'sqlcipher', filename: join(spec.dir, 'kronus.db') }
  const json = (value: unknown) => JSON.stringify(value)
  return `import { defineConfig, type KronusConfigInput } from 'kronus'

const database: KronusConfigInput['database'] = ${json(database)}

export default defineConfig({
  kronus: {
    privateKeyPem: ${json(privateKeyPem)},
    publicUrl: 'http://127.0.0.1',
    sqlite: { passPhrase: ${json(PASSPHRASE)} }
  },
  database
})
`
}

function yamlConfig(spec: BenchDatabaseSpec, privateKeyPem: string): string {
  const key = privateKeyPem
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
  // The bench schema is the server's search_path, passed in the connection string.
  const database =
    spec.kind === 'postgres'
      ? `database:\n  client: postgres\n  connection: "${spec.url}${spec.url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${spec.schema}`)}"\n`
      : `database:\n  client: sqlcipher\n  filename: "${join(spec.dir, 'kronus.db')}"\n`
  return `kronus:\n  privateKeyPem: |\n${key}\n  publicUrl: "http://127.0.0.1"\nsqlite:\n  passPhrase: "${PASSPHRASE}"\n${database}`
}

async function waitForHealth(url: string, server: ChildProcess, exited: Promise<unknown>): Promise<void> {
  let gone = false
  void exited.then(() => {
    gone = true
  })
  for (;;) {
    if (gone) throw new Error(`kronus server exited with ${server.exitCode ?? server.signalCode} before answering`)
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // Not listening yet.
    }
    await sleep(250)
  }
}

export async function serverRssCase(spec: BenchDatabaseSpec, params: ServerRssParams): Promise<ServerRssMeasurement> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')))
    throw new Error('the server RSS benchmark runs the build: run `npm run build` first')
  if (!existsSync('/proc/self/status')) throw new Error('the server RSS benchmark reads /proc: Linux only')
  const privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString()
  const configFile = join(spec.dir, params.config === 'yaml' ? 'config.yml' : 'kronus.config.ts')
  const write = params.config === 'yaml' ? yamlConfig : typescriptConfig
  writeFileSync(configFile, write(spec, privateKeyPem), { mode: 0o600 })
  const port = await freePort()
  const logFile = join(spec.dir, 'server.log')
  const logFd = openSync(logFile, 'w')
  const server = spawn(process.execPath, [...params.nodeArgs, BIN, 'server', '--config', configFile], {
    cwd: spec.dir,
    env: { ...process.env, KRONUS_PORT: String(port), KRONUS_DATABASE_URL: undefined },
    stdio: ['ignore', logFd, logFd]
  })
  closeSync(logFd)
  const exited = new Promise((resolve) => server.once('exit', resolve))
  try {
    await waitForHealth(`http://127.0.0.1:${port}/health`, server, exited)
    const pid = server.pid!
    let rssAt30s: number | null = null
    const started = performance.now()
    for (let second = 1; second <= params.seconds; second++) {
      await sleep(started + second * 1000 - performance.now())
      if (server.exitCode !== null) throw new Error(`kronus server exited with ${server.exitCode} while idle`)
      if (second === 30) rssAt30s = procKb(pid, 'status', 'VmRSS')
    }
    return {
      rss: procKb(pid, 'status', 'VmRSS'),
      rssAt30s,
      peak: procKb(pid, 'status', 'VmHWM'),
      anonymous: procKb(pid, 'smaps_rollup', 'Anonymous'),
      seconds: (performance.now() - started) / 1000
    }
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${readFileSync(logFile, 'utf8').slice(-1500)}`)
  } finally {
    server.kill('SIGTERM')
    await exited
  }
}

export function serverRssRows(
  db: string,
  m: ServerRssMeasurement,
  nodeArgs: string[],
  config: ServerRssConfig = 'yaml'
): ResultRow[] {
  const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`
  return [
    row({
      bench: 'rss',
      subject: `kronus server (dist, ${config === 'yaml' ? 'YAML config' : 'kronus.config.ts'}, built-in plugins): RSS after ${m.seconds.toFixed(0)} s idle`,
      db,
      value: m.rss / MIB,
      unit: 'MiB',
      limit: SERVER_RSS_TARGET_MIB,
      limitLabel: `${SERVER_RSS_TARGET_MIB} MiB target`,
      lowerIsBetter: true,
      detail: [
        m.rssAt30s === null ? undefined : `${mib(m.rssAt30s)} at 30 s`,
        `peak ${mib(m.peak)} since start`,
        `${mib(m.anonymous)} private (the rest is mapped files, mostly the node binary)`,
        nodeArgs.length > 0 ? `node ${nodeArgs.join(' ')}` : 'no node flags'
      ]
        .filter(Boolean)
        .join('; ')
    })
  ]
}
