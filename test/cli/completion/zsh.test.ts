import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { completionModel } from '../../../src/cli/completion/model.js'
import { zshScript } from '../../../src/cli/completion/zsh.js'
import { kronusProgram } from '../kronus-program.js'
import { hasShell, lines, scriptFile } from './shells.js'

const CAPTURE = join(dirname(fileURLToPath(import.meta.url)), 'zsh-capture.zsh')
const model = completionModel(kronusProgram())
const script = zshScript(model)

t.test('the zsh script holds every command, option and choice', async (t) => {
  t.match(script, /^#compdef kronus\n/)
  for (const command of model.commands) {
    t.ok(script.includes(`'${command.names[0]}:`), `command ${command.names[0]} is offered`)
    t.ok(script.includes(`(${command.names[0]})`), `command ${command.names[0]} has its own arguments`)
  }
  for (const flag of ['-v', '--version', '-h', '--help', '--config=', '--dev'])
    t.ok(script.includes(`${flag}[`), `flag ${flag}`)
  t.match(script, /--config=\[[^\]]*\]:file:_files/, '--config completes files')
  t.match(script, /'1:shell:\(bash zsh fish\)'/)
  t.match(script, /'1:command:\(server user backup restore sms completion help\)'/)
})

// zsh completes only inside its line editor: the capture script drives an interactive zsh in
// a pseudo-terminal (zsh/zpty) and prints what the completion offers. Runs where zsh is installed.
t.test('zsh completes kronus', { skip: hasShell('zsh') ? false : 'zsh is not installed' }, async (t) => {
  const file = scriptFile(t, '_kronus', script)
  const complete = (line: string): string[] => {
    const run = spawnSync('zsh', ['-f', CAPTURE, file, line], { encoding: 'utf8', timeout: 60_000 })
    if (run.status !== 0) throw new Error(`zsh exited ${run.status}: ${run.stderr}`)
    return lines(run.stdout)
  }
  t.same(complete('kronus ser'), ['server'])
  t.same(complete('kronus ').sort(), ['backup', 'completion', 'help', 'restore', 'server', 'sms', 'user'])
  t.same(complete('kronus server --').sort(), ['--config', '--dev', '--help'])
  t.same(complete('kronus completion ').sort(), ['bash', 'fish', 'zsh'])
  t.same(complete('kronus help ').sort(), ['backup', 'completion', 'help', 'restore', 'server', 'sms', 'user'])
  t.ok(complete(`kronus server --config ${dirname(file)}/_kr`).includes('_kronus'), '--config completes file names')
})
