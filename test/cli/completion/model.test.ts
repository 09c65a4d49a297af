import { Command } from 'commander'
import t from 'tap'
import { completionModel } from '../../../src/cli/completion/model.js'
import { kronusProgram } from '../kronus-program.js'

t.test('reads commands, options and choices from the program', async (t) => {
  const model = completionModel(kronusProgram())
  t.equal(model.name, 'kronus')
  t.same(
    model.options.map((o) => o.names),
    [
      ['-v', '--version'],
      ['-h', '--help']
    ]
  )
  t.ok(
    model.options.every((o) => o.exclusive),
    'version and help end the command line'
  )
  t.same(
    model.commands.map((c) => c.names[0]),
    ['server', 'user', 'backup', 'restore', 'sms', 'completion', 'help']
  )
  const server = model.commands.find((c) => c.names[0] === 'server')!
  t.same(
    server.options.map((o) => [o.names, o.value]),
    [
      [['--config'], { kind: 'file' }],
      [['--dev'], undefined],
      [['-h', '--help'], undefined]
    ]
  )
  const user = model.commands.find((c) => c.names[0] === 'user')!
  t.same(user.args, [{ name: 'action', choices: ['create'] }], 'kronus user create')
  const completion = model.commands.find((c) => c.names[0] === 'completion')!
  t.same(completion.args, [{ name: 'shell', choices: ['bash', 'zsh', 'fish'] }])
  const help = model.commands.find((c) => c.names[0] === 'help')!
  t.same(
    help.args,
    [{ name: 'command', choices: ['server', 'user', 'backup', 'restore', 'sms', 'completion', 'help'] }],
    'help completes command names'
  )
})

t.test('option values: choices, files by their placeholder, anything else', async (t) => {
  const program = new Command('kronus')
  program.command('x').option('--level <level>', 'l').option('--out <path>', 'o').option('--name <name>', 'n')
  program.commands[0].options[0].choices(['low', 'high'])
  const [x] = completionModel(program).commands
  t.same(
    x.options.slice(0, 3).map((o) => o.value),
    [{ kind: 'choice', choices: ['low', 'high'] }, { kind: 'file' }, { kind: 'any' }]
  )
})

t.test('refuses names a shell script could not hold safely', async (t) => {
  const program = new Command('kronus')
  program.command('x').argument('<mode>')
  program.commands[0].registeredArguments[0].choices(['ok', 'rm -rf'])
  t.throws(() => completionModel(program), /cannot complete "rm -rf"/)
})
