import { spawnSync } from 'node:child_process'
import t from 'tap'
import { fishScript } from '../../../src/cli/completion/fish.js'
import { completionModel } from '../../../src/cli/completion/model.js'
import { kronusProgram } from '../kronus-program.js'
import { hasShell, lines, scriptFile } from './shells.js'

const model = completionModel(kronusProgram())
const script = fishScript(model)

t.test('the fish script holds every command, option and choice', async (t) => {
  for (const command of model.commands)
    t.match(script, new RegExp(`-a ${command.names[0]} -d`), `command ${command.names[0]}`)
  t.match(script, /__fish_seen_subcommand_from server' -l config -r -F/, '--config takes a file')
  t.match(script, /__fish_seen_subcommand_from server' -l dev/)
  t.match(script, /-s v -l version/)
  t.match(script, /-s h -l help/)
  t.match(script, /-a 'bash zsh fish'/)
})

t.test('fish completes kronus', { skip: hasShell('fish') ? false : 'fish is not installed' }, async (t) => {
  const file = scriptFile(t, 'kronus.fish', script)
  // `complete -C LINE` prints what fish would offer, one "candidate<TAB>description" a line.
  const complete = (line: string): string[] => {
    const run = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; and complete -C $argv[2]', file, line], {
      encoding: 'utf8',
      timeout: 30_000
    })
    if (run.status !== 0) throw new Error(`fish exited ${run.status}: ${run.stderr}`)
    return lines(run.stdout).map((l) => l.split('\t')[0])
  }
  t.same(complete('kronus ser'), ['server'])
  t.same(complete('kronus ').sort(), ['backup', 'completion', 'help', 'restore', 'server', 'sms', 'user'])
  t.same(complete('kronus server --').sort(), ['--config', '--dev', '--help'])
  t.same(complete('kronus completion ').sort(), ['bash', 'fish', 'zsh'])
  t.same(complete('kronus help ').sort(), ['backup', 'completion', 'help', 'restore', 'server', 'sms', 'user'])
  t.same(complete(`kronus server --config ${file.slice(0, -4)}`), [file], '--config completes file names')
})
