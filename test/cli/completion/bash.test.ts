import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Argument, Command } from 'commander'
import t from 'tap'
import { bashScript } from '../../../src/cli/completion/bash.js'
import { completionModel } from '../../../src/cli/completion/model.js'
import { kronusProgram } from '../kronus-program.js'
import { lines, scriptFile } from './shells.js'

/**
 * Sources the script in a clean bash, finds the function it registered for kronus with
 * `complete -p`, and calls it as bash would for the given words (the last one is under the cursor).
 */
function completeIn(file: string, words: string[], cwd?: string): string[] {
  const driver = [
    'source "$1" || exit 3',
    'spec=$(complete -p kronus) || exit 4',
    'fn=${spec##*-F }; fn=${fn%% *}',
    'COMP_WORDS=("${@:2}")',
    'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}',
    '"$fn" kronus "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"'
  ].join('\n')
  const run = spawnSync('bash', ['--norc', '--noprofile', '-c', driver, 'bash', file, ...words], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000
  })
  if (run.status !== 0) throw new Error(`bash exited ${run.status}: ${run.stderr}`)
  return lines(run.stdout)
}

t.test('completes commands, flags and choices of the kronus program', async (t) => {
  const file = scriptFile(t, 'kronus.bash', bashScript(completionModel(kronusProgram())))
  t.same(completeIn(file, ['kronus', 'ser']), ['server'], 'kronus ser<TAB>')
  t.same(completeIn(file, ['kronus', '']).sort(), ['backup', 'completion', 'help', 'restore', 'server', 'sms', 'user'])
  t.same(completeIn(file, ['kronus', 'server', '--']).sort(), ['--config', '--dev', '--help'], 'kronus server --<TAB>')
  t.same(completeIn(file, ['kronus', 'server', '--c']), ['--config'])
  t.same(completeIn(file, ['kronus', 'server', '--config', 'x.yml', '--d']), ['--dev'], 'after an option value')
  t.same(completeIn(file, ['kronus', '-']).sort(), ['--help', '--version', '-h', '-v'])
  t.same(completeIn(file, ['kronus', 'completion', '']).sort(), ['bash', 'fish', 'zsh'])
  t.same(completeIn(file, ['kronus', 'completion', 'f']), ['fish'])
  t.same(completeIn(file, ['kronus', 'completion', 'bash', '']), [], 'nothing after the last argument')
  t.same(completeIn(file, ['kronus', 'help', 's']), ['server', 'sms'])
})

t.test('--config completes file names, also written --config=FILE', async (t) => {
  const file = scriptFile(t, 'kronus.bash', bashScript(completionModel(kronusProgram())))
  const cwd = join(file, '..', 'project')
  mkdirSync(cwd)
  writeFileSync(join(cwd, 'config.yml'), '')
  writeFileSync(join(cwd, 'kronus.config.ts'), '')
  t.same(completeIn(file, ['kronus', 'server', '--config', 'con'], cwd), ['config.yml'])
  // bash splits "--config=con" at "=" into three words.
  t.same(completeIn(file, ['kronus', 'server', '--config', '=', 'kro'], cwd), ['kronus.config.ts'])
  t.same(completeIn(file, ['kronus', 'server', '--config', '='], cwd).sort(), ['config.yml', 'kronus.config.ts'])
})

t.test('a command added to the program is completed without touching the generator', async (t) => {
  const program = kronusProgram()
  program
    .command('export')
    .description('copy the database')
    .addArgument(new Argument('<target>').choices(['local', 'gcs']))
    .option('--to <path>', 'where')
    .option('--verbose', 'talk')
  const file = scriptFile(t, 'kronus.bash', bashScript(completionModel(program)))
  t.same(completeIn(file, ['kronus', 'exp']), ['export'])
  t.same(completeIn(file, ['kronus', 'export', '--']).sort(), ['--help', '--to', '--verbose'])
  t.same(completeIn(file, ['kronus', 'help', 'e']), ['export'])
  t.same(completeIn(file, ['kronus', 'export', '']), ['local', 'gcs'])
  t.same(
    completeIn(file, ['kronus', 'export', '--to', '/tmp/x', '']),
    ['local', 'gcs'],
    'an option value is not counted as an argument'
  )
  t.same(
    completeIn(file, ['kronus', 'export', '--to', '=', '/tmp/x', '']),
    ['local', 'gcs'],
    'nor in the --to=VALUE form'
  )
  t.same(completeIn(file, ['kronus', 'export', 'gcs', '']), [], 'nothing after the last argument')
})

t.test('the script is valid bash on its own', async (t) => {
  const file = scriptFile(t, 'kronus.bash', bashScript(completionModel(new Command('kronus').helpCommand(false))))
  const run = spawnSync('bash', ['--norc', '--noprofile', '-n', file], { encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
})
