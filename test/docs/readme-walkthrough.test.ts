import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { BIN, freePort, HANG_MS, REPO, startKronus, waitForHealth, within } from '../cli/run-kronus.js'

/*
 * The README's quick start, run as written: the blocks between <!-- walkthrough --> and
 * <!-- /walkthrough --> against `kronus server --dev` on a free port in a temp folder (only
 * the port and `npx kronus`, which is this checkout's bin/kronus.js, are substituted). Each
 * `# → ...` line must be in its command's output; a ```text block must appear in the dev log.
 * Uses the built dist/ (npm run build).
 */

interface Step {
  command: string
  expected: string[]
}

type Block = { kind: 'commands'; steps: Step[] } | { kind: 'devLog'; text: string }

function walkthroughBlocks(readme: string): Block[] {
  const start = readme.indexOf('<!-- walkthrough -->')
  const end = readme.indexOf('<!-- /walkthrough -->')
  if (start < 0 || end < start) throw new Error('README.md has no <!-- walkthrough --> section')
  const blocks: Block[] = []
  for (const [, lang, body] of readme.slice(start, end).matchAll(/```(\w+)\n([\s\S]*?)```/g)) {
    if (lang === 'text') {
      blocks.push({ kind: 'devLog', text: body! })
      continue
    }
    const steps: Step[] = []
    let command: string[] = []
    for (const line of body!.split('\n')) {
      const expected = /^# → (.*)$/.exec(line)
      if (expected) steps.at(-1)!.expected.push(expected[1]!)
      else if (line.startsWith('#') || line.trim() === '') {
        // a comment for the reader, or the space between steps
      } else {
        command.push(line)
        if (!line.endsWith('\\')) {
          steps.push({ command: command.join('\n'), expected: [] })
          command = []
        }
      }
    }
    blocks.push({ kind: 'commands', steps })
  }
  return blocks
}

/** Runs one step in bash; shell variables (TOKEN) carry over to the next step through `state`. */
function runStep(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const state = join(cwd, 'walkthrough-state.sh')
  const script = `set -a\n[ -f ${state} ] && . ${state}\n${command}\nstatus=$?\nexport -p > ${state}\nexit $status\n`
  const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  return within(
    exited.then((code) => ({ code, out })),
    HANG_MS,
    command,
    child
  )
}

async function untilDevLogHas(text: string, log: () => string): Promise<void> {
  while (!log().includes(text)) await new Promise((r) => setTimeout(r, 100))
}

t.test("the README's quick start works as written against a dev server", async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'kronus-readme-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const port = await freePort()
  const env = { KRONUS_PORT: String(port) }
  const server = startKronus(['server', '--dev'], { cwd, env })
  t.teardown(() => server.child.kill('SIGKILL'))
  await waitForHealth(server, port)

  const blocks = walkthroughBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'))
  t.ok(blocks.filter((b) => b.kind === 'commands').length >= 2, 'the walkthrough has its commands')
  const stepEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env }
  for (const block of blocks) {
    if (block.kind === 'devLog') {
      await within(untilDevLogHas(block.text, server.stdout), HANG_MS, 'the dev log')
      t.pass(`the dev log shows ${JSON.stringify(block.text)}`)
      continue
    }
    for (const step of block.steps) {
      const command = step.command
        .replaceAll('localhost:3900', `localhost:${port}`)
        .replaceAll('npx kronus ', `${process.execPath} ${BIN} `)
      const { code, out } = await runStep(command, cwd, stepEnv)
      t.equal(code, 0, `exit 0: ${step.command.split('\n')[0]}`)
      for (const expected of step.expected) t.match(out, expected, `${step.command.split('\n')[0]} → ${expected}`)
    }
  }
  t.ok(existsSync(join(cwd, 'dev', 'twilio-auth-token')), 'kronus sms signed with the dev server token in ./dev')
})
