import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/*
 * Real `kronus server` processes for the multi-instance test: each gets a kronus.config.mjs
 * of its own, and the test learns its address from the "kronus listening" log line.
 */

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const BIN = join(ROOT, 'bin', 'kronus.js')
/** Longer than any test may run (tap's timeout is 600 s). */
const MAX_LIFETIME_MS = 11 * 60_000
const moduleUrl = (path: string) => pathToFileURL(join(ROOT, path)).href

export interface ServerConfig {
  instance: string
  connection: string
  privateKeyPem: string
  publicUrl: string
  twilio: { accountSid: string; authToken: string; messagingServiceSid: string }
  jobs: Record<string, number>
  hangAfterSends: number | null
}

/** The configuration file of one process, as an operator would write it (plus the recording channel). */
export function writeServerConfig(dir: string, config: ServerConfig): string {
  const file = join(dir, `kronus.${config.instance}.config.mjs`)
  const json = (value: unknown) => JSON.stringify(value)
  writeFileSync(
    file,
    `import { twilioSms } from ${json(moduleUrl('plugins/twilio-sms/index.ts'))}
import { emergencyContact } from ${json(moduleUrl('plugins/emergency-contact/index.ts'))}
import { recordingChannel } from ${json(moduleUrl('test/multi-instance/recording-plugin.ts'))}

// A test server must not outlive the test, even one killed before its teardown ran.
const testPid = ${process.pid}
const diesAt = Date.now() + ${json(MAX_LIFETIME_MS)}
setInterval(() => {
  if (process.ppid !== testPid || Date.now() > diesAt) process.kill(process.pid, 'SIGKILL')
}, 500).unref()

// Texts go to the recording channel; twilio-sms is here for its webhook, so it gets a client that is never used.
const unusedClient = { messages: { create: async () => { throw new Error('texts go through the recording channel') } } }

export default {
  kronus: {
    privateKeyPem: ${json(config.privateKeyPem)},
    publicUrl: ${json(config.publicUrl)},
    listener: { host: '127.0.0.1', port: 0 },
    cron: { timeZone: 'UTC' }
  },
  database: { client: 'postgres', connection: ${json(config.connection)} },
  twilio: ${json(config.twilio)},
  jobs: ${json(config.jobs)},
  logging: { level: 'info' },
  plugins: [
    twilioSms({ client: unusedClient, messagesPerSecond: 1000, burst: 1000 }),
    emergencyContact(),
    recordingChannel({ instance: ${json(config.instance)}, hangAfterSends: ${json(config.hangAfterSends)} })
  ]
}
`
  )
  return file
}

export interface ServerProcess {
  instance: string
  child: ChildProcess
  /** http://127.0.0.1:<port> once listening. */
  uri: Promise<string>
  /** Resolves with the signal or exit code when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The last lines the process wrote, for a failure message. */
  tail(): string
}

function withoutKronusEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !/^(KRONUS_|TWILIO_|GOOGLE_)/.test(name)))
}

export function startServer(instance: string, configFile: string, cwd: string): ServerProcess {
  const child = spawn(process.execPath, [BIN, 'server', '--config', configFile], {
    cwd,
    env: withoutKronusEnv(process.env),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const lines: string[] = []
  let resolveUri!: (uri: string) => void
  let rejectUri!: (err: Error) => void
  const uri = new Promise<string>((res, rej) => {
    resolveUri = res
    rejectUri = rej
  })
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue
      lines.push(line)
      if (lines.length > 200) lines.shift()
      if (line.includes('kronus listening')) {
        const match = /"uri":"([^"]+)"/.exec(line)
        if (match) resolveUri(match[1]!)
      }
    }
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    child.on('exit', (code, signal) => {
      rejectUri(new Error(`server ${instance} exited (${signal ?? code}) before listening:\n${lines.join('\n')}`))
      res({ code, signal })
    })
  })
  return { instance, child, uri, exited, tail: () => lines.join('\n') }
}
