import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { completionScript } from '../../src/cli/completion/index.js'
import { kronusProgram } from './kronus-program.js'
import { REPO, runKronus } from './run-kronus.js'

const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('-v and --version print the version of package.json', async (t) => {
  for (const flag of ['-v', '--version']) {
    const run = await runKronus([flag])
    t.equal(run.code, 0, flag)
    t.equal(run.stdout, `${VERSION}\n`, flag)
  }
})

t.test('-h, --help, help and no arguments print the usage', async (t) => {
  const outputs: string[] = []
  for (const args of [['-h'], ['--help'], ['help'], []]) {
    const run = await runKronus(args)
    t.equal(run.code, 0, `kronus ${args.join(' ')} exits 0`)
    t.equal(run.stderr, '', `kronus ${args.join(' ')} writes no error`)
    outputs.push(run.stdout)
  }
  t.match(outputs[0], /Usage: kronus/)
  for (const word of ['server', 'completion', 'help', '-v, --version', '-h, --help'])
    t.ok(outputs[0].includes(word), `usage lists ${word}`)
  t.equal(new Set(outputs).size, 1, 'all four print the same usage')
})

t.test('help for a command lists its flags', async (t) => {
  for (const args of [
    ['help', 'server'],
    ['server', '--help']
  ]) {
    const run = await runKronus(args)
    t.equal(run.code, 0)
    t.match(run.stdout, /Usage: kronus server/)
    t.match(run.stdout, /--config <file>/)
    t.match(run.stdout, /--dev/)
  }
})

t.test('a bad flag, command or argument prints what is wrong and exits 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['server', '--bogus'], /unknown option '--bogus'/],
    [['--bogus'], /unknown option '--bogus'/],
    [['serve'], /unknown command 'serve'[\s\S]*server/],
    [['help', 'nope'], /unknown command 'nope'/],
    [['server', '--config'], /option '--config <file>' argument missing/],
    [['completion'], /missing required argument 'shell'/],
    [['completion', 'tcsh'], /'tcsh' is invalid[\s\S]*bash, zsh, fish/]
  ]
  for (const [args, message] of cases) {
    const run = await runKronus(args)
    t.equal(run.code, 2, `kronus ${args.join(' ')} exits 2`)
    t.match(run.stderr, message, `kronus ${args.join(' ')} says why`)
    t.equal(run.stdout, '', 'nothing on stdout')
  }
})

t.test('a bad configuration prints each problem with its key and exits 1', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  listener:\n    port: 99999\n  cron:\n    timeZone: Mars/Olympus\n  sqlite:\n    passPhrase: p\n'
  )
  const run = await runKronus(['server', '--config', 'config.yml'], { cwd })
  t.equal(run.code, 1)
  t.match(run.stderr, /invalid configuration in .*config\.yml/)
  t.match(run.stderr, /kronus\.listener\.port must be less than or equal to 65535/)
  t.match(run.stderr, /kronus\.cron\.timeZone must be an IANA time zone/)
  t.match(run.stderr, /kronus\.privateKeyPem is required/)
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace')

  const eq = await runKronus(['server', '--config=config.yml'], { cwd })
  t.equal(eq.code, 1, '--config=FILE works too')
  t.match(eq.stderr, /kronus\.listener\.port/)
})

t.test('a missing or unparsable file, no file at all, or a bad KRONUS_PORT exits 1 with the reason', async (t) => {
  const cwd = tempDir(t)
  const missing = await runKronus(['server', '--config', 'nope.yml'], { cwd })
  t.equal(missing.code, 1)
  t.match(missing.stderr, /nope\.yml:\n {2}- file not found/)

  writeFileSync(join(cwd, 'broken.yml'), 'kronus: [\n')
  const broken = await runKronus(['server', '--config', 'broken.yml'], { cwd })
  t.equal(broken.code, 1)
  t.match(broken.stderr, /cannot parse .*broken\.yml/)

  const none = await runKronus(['server'], { cwd })
  t.equal(none.code, 1)
  t.match(none.stderr, /no kronus\.config\.ts/)

  const port = await runKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: 'eighty' } })
  t.equal(port.code, 1)
  t.match(port.stderr, /KRONUS_PORT must be a whole number/)
})

t.test('`kronus completion SHELL` prints the script generated from the program', async (t) => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const run = await runKronus(['completion', shell])
    t.equal(run.code, 0, shell)
    t.equal(run.stdout, completionScript(shell, kronusProgram()), shell)
  }
})
