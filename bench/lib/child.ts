import { fork } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CaseRequest } from '../case.js'
import { summariseGcLog } from './gc-log.js'
import type { CaseMessage, RunnerMessage } from './result.js'

const ROOT = new URL('../..', import.meta.url).pathname
const CASE_ENTRY = new URL('../case.ts', import.meta.url).pathname

let compiledCase: Promise<string> | undefined

/**
 * bench/case.ts and the benchmark's own files compiled by esbuild into one module, with every
 * import of Kronus (src/, plugins/) going to the build in dist/: a case process then runs
 * Kronus as `kronus server` does, in plain node. Under tsx, its loader thread alone held
 * 40 MiB or more of every case's RSS, which no operator's server has. Compiled once per run.
 */
function caseEntry(): Promise<string> {
  // A case that runs a case of its own (the fan-out seeds in another process) reuses its runner's build.
  const inherited = process.env.KRONUS_BENCH_CASE_ENTRY
  if (inherited) return Promise.resolve(inherited)
  compiledCase ??= (async () => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'app.js')))
      throw new Error('the benchmark runs the build: run `npm run build` first')
    const dir = mkdtempSync(join(tmpdir(), 'kronus-bench-case-'))
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
    const entry = join(dir, 'case.mjs')
    // Loaded here only: a case process never compiles, so esbuild is not in its memory.
    const { compileModule } = await import('../../src/config/compile-module.js')
    await compileModule(CASE_ENTRY, entry, { root: ROOT, fromBuild: true })
    return entry
  })()
  return compiledCase
}
/**
 * Node flags the `kronus` command runs with (bin/kronus.js): none, so cases run as an
 * operator's server does. The case sets V8's heap growth as `kronus server` does (bench/case.ts).
 */
export const KRONUS_NODE_FLAGS: string[] = []

export interface ChildOptions {
  /** Extra node flags for the case process, e.g. --cpu-prof. */
  nodeArgs?: string[]
  /** Keep the case's log file when it succeeds, and print its path (--trace-gc writes there). */
  keepLog?: boolean
  /** Called when the case says it is ready to be loaded (API cases); the case is told to finish once it resolves. */
  onReady?: (ready: Extract<CaseMessage, { type: 'ready' }>) => Promise<void>
}

/**
 * Runs one case in a child process and returns what it measured. The child's stdout and stderr
 * (Kronus's own logs included) go to a file in the temp folder, which is printed and
 * kept when the case fails.
 */
export async function runCaseProcess<T>(request: CaseRequest, options: ChildOptions = {}): Promise<T> {
  const entry = await caseEntry()
  const logFile = join(tmpdir(), `kronus-bench-${request.bench}-${process.pid}-${Date.now()}.log`)
  const logFd = openSync(logFile, 'w')
  const child = fork(entry, [JSON.stringify(request)], {
    execArgv: [...KRONUS_NODE_FLAGS, ...(options.nodeArgs ?? [])],
    env: { ...process.env, KRONUS_BENCH_CASE_ENTRY: entry },
    stdio: ['ignore', logFd, logFd, 'ipc']
  })
  closeSync(logFd)
  let result: { value: T } | undefined
  let readyFailed: unknown
  child.on('message', (message: CaseMessage) => {
    if (message.type === 'result') result = { value: message.result as T }
    if (message.type === 'ready' && options.onReady) {
      options
        .onReady(message)
        .catch((err) => {
          readyFailed = err
        })
        .finally(() => child.send({ type: 'finish' } satisfies RunnerMessage))
    }
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  if (readyFailed) throw readyFailed
  if (code !== 0 || !result) {
    const log = readFileSync(logFile, 'utf8')
    throw new Error(
      `benchmark case ${request.bench} on ${request.db?.kind ?? 'no database'} failed (exit ${code}); log kept at ${logFile}:\n${log.slice(-1500)}`
    )
  }
  if (options.keepLog) {
    console.log(`… log of the ${request.bench} case on ${request.db?.kind ?? 'no database'}: ${logFile}`)
    const gc = summariseGcLog(logFile)
    if (gc) console.log(`… its collections: ${gc}`)
  } else rmSync(logFile, { force: true })
  return result.value
}
