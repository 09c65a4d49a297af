import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { FakeTwilioApi } from '../fakes/twilio-api.js'
import { leaseSchema, onPostgres, schemaForDir } from '../helpers/db.js'

/*
 * Exactly-once texts across SIGKILL. Workers (kill-worker/worker.ts) send 1,000 check-in
 * texts through the real Twilio transport and SDK to the loopback fake Twilio; each of
 * the first KILLS workers is killed with SIGKILL at a random point, and the next one
 * takes over on the same database, until a last worker finishes. Each worker is killed
 * when the fake has just accepted its N-th new text and not yet answered (the worker
 * never learns the text went out: the case that used to send it twice), N random and at
 * most 80, so that every kill happens; half of them are struck earlier, at a random
 * moment after the worker's first text (in a commit, a list call, a batch claim...).
 * Whatever the kill points, the fake must end with every text exactly once.
 */

const TEXTS = 1000
const KILLS = 10
/** New texts a worker may send before its kill: KILLS of them never add up to TEXTS, so every kill happens. */
const MAX_TEXTS_BEFORE_KILL = 80
const ACCOUNT_SID = 'AC' + '5'.repeat(32)
const AUTH_TOKEN = 'kill-test-auth-token'
const SERVICE_SID = 'MG' + '5'.repeat(32)
const WORKER = fileURLToPath(new URL('./kill-worker/worker.ts', import.meta.url))

t.test(`${TEXTS} texts, ${KILLS} workers killed with SIGKILL at random points: none lost, none twice`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-kill-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  if (onPostgres()) t.teardown(await leaseSchema(schemaForDir(dir)))

  let worker: ChildProcess | null = null
  let acceptedThisGeneration = 0
  let killAfterAccepted: number | null = null
  let killTimer: NodeJS.Timeout | null = null
  let killDelayMs = 0
  const kills: string[] = []
  let lastOutput = ''
  const kill = (how: string) => {
    if (!worker || worker.killed || worker.exitCode !== null) return
    worker.kill('SIGKILL')
    kills.push(how)
  }
  const fake = await FakeTwilioApi.start({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    onAccepted: () => {
      acceptedThisGeneration += 1
      if (acceptedThisGeneration === killAfterAccepted) kill(`on accepting text ${killAfterAccepted}, before answering`)
      if (acceptedThisGeneration === 1 && killDelayMs > 0) {
        killTimer = setTimeout(() => kill(`${killDelayMs} ms after its first text`), killDelayMs)
      }
    }
  })
  t.teardown(() => fake.close())
  t.teardown(() => {
    if (worker && worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL')
  })

  for (let generation = 0; generation <= KILLS; generation++) {
    acceptedThisGeneration = 0
    const last = generation === KILLS
    killAfterAccepted = last ? null : 1 + Math.floor(Math.random() * MAX_TEXTS_BEFORE_KILL)
    killDelayMs = !last && Math.random() < 0.5 ? 1 + Math.floor(Math.random() * 500) : 0
    const args = [
      ...process.execArgv,
      WORKER,
      dir,
      fake.baseUrl,
      ACCOUNT_SID,
      AUTH_TOKEN,
      SERVICE_SID,
      String(generation),
      generation === 0 ? String(TEXTS) : '0'
    ]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
    worker = child
    let output = ''
    child.on('exit', () => (lastOutput = output))
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal }))
    )
    if (killTimer) clearTimeout(killTimer)
    killTimer = null
    if (exit.signal !== 'SIGKILL' && exit.code !== 0) t.fail(`worker ${generation} failed: ${output.slice(-2000)}`)
    t.equal(exit.signal, last ? null : 'SIGKILL', last ? 'the last worker finished' : `worker ${generation} was killed`)
  }
  t.comment(`kills: ${kills.length} (${kills.join('; ')})`)
  t.match(lastOutput, /dead text jobs: 0\n/, 'no text job gave up')

  const sent = new Map<string, number>()
  for (const m of fake.messages) sent.set(`${m.to} ${m.body}`, (sent.get(`${m.to} ${m.body}`) ?? 0) + 1)
  const duplicated = [...sent.values()].filter((n) => n > 1).length
  const lists = fake.requests.filter((r) => r.method === 'GET').length
  t.comment(
    `texts accepted by Twilio: ${fake.messages.length}, distinct: ${sent.size}, duplicated: ${duplicated}, reconciling list requests: ${lists}`
  )
  t.equal(sent.size, TEXTS, 'no text lost')
  t.equal(duplicated, 0, 'no text sent twice')
  t.equal(fake.messages.length, TEXTS, `exactly ${TEXTS} texts reached Twilio`)
})
