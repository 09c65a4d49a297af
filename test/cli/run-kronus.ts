import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(REPO, 'bin', 'kronus.js')

/** No KRONUS_*, TWILIO_* or tap settings leak from the test runner into the command. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG']
  const env: NodeJS.ProcessEnv = {}
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key]
  return { ...env, ...extra }
}

export interface RunOptions {
  cwd?: string
  env?: Record<string, string>
  /** Flags for node itself, before bin/kronus.js. */
  nodeArgs?: string[]
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface RunningKronus {
  child: ChildProcess
  stdout(): string
  stderr(): string
  exited: Promise<Exit>
}

export function startKronus(args: string[], options: RunOptions = {}): RunningKronus {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd ?? REPO,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })))
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/**
 * How long a command may go without answering before a test calls it hung. A hang guard,
 * not a budget: far above what any step takes even on a loaded machine (a slow machine
 * must not fail a test), and below tap's per-file timeout, so the child is killed and the
 * failure says which step hung.
 */
export const HANG_MS = 120_000

/** Resolves with `promise`, or rejects after `ms` (killing `child`) so a hang fails the test instead of stalling it. */
export async function within<T>(promise: Promise<T>, ms: number, what: string, child?: ChildProcess): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child?.kill('SIGKILL')
      reject(new Error(`${what}: no answer within ${ms / 1000} s`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs `kronus ARGS` to completion (failing if it hangs). */
export async function runKronus(
  args: string[],
  options: RunOptions = {}
): Promise<Exit & { stdout: string; stderr: string }> {
  const run = startKronus(args, options)
  const exit = await within(run.exited, HANG_MS, `kronus ${args.join(' ')}`, run.child)
  return { ...exit, stdout: run.stdout(), stderr: run.stderr() }
}

/** A port nothing listens on right now: the OS picks it, then it is released for Kronus. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
      )
    })
  })
}

/** Polls GET /health until it answers 200 (at most `ms`), failing early if Kronus exits. */
export async function waitForHealth(run: RunningKronus, port: number, ms = HANG_MS): Promise<any> {
  let exit: Exit | undefined
  void run.exited.then((e) => (exit = e))
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (exit) throw new Error(`kronus exited (${JSON.stringify(exit)}) before answering /health:\n${run.stderr()}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return await res.json()
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  run.child.kill('SIGKILL')
  throw new Error(`kronus did not answer /health within ${ms / 1000} s:\n${run.stderr()}`)
}

/**
 * The growing factor of each old-generation limit V8 set, in order, from a node process run
 * with --trace-gc-verbose ("[HeapController] Limit: old size: 2800 KB, new limit: 11152 KB (1.5)").
 */
export function heapLimitFactors(stdout: string): number[] {
  return [...stdout.matchAll(/\[HeapController\] Limit: .* \(([0-9.]+)\)$/gm)].map((m) => Number(m[1]))
}
