import { Argument, type Command } from 'commander'
import type { CliPlugins } from '../plugins.js'
import type { UserCreateFlags } from './user-create.js'

export function registerUserCommand(program: Command, impliedPlugins: CliPlugins['implied']): void {
  program
    .command('user')
    .description('create the first admin from this machine, before anyone else can sign up')
    .addArgument(new Argument('<action>', 'what to do').choices(['create']))
    .option('--admin', 'create the first admin (the only kind of user made here; the admin creates the others)')
    .requiredOption('--first-name <name>', 'first name')
    .requiredOption('--last-name <name>', 'last name')
    .requiredOption('--email <email>', 'email address, used to log in')
    .requiredOption('--phone-number <number>', 'E.164 phone number the check-ins are texted to, such as +12345678900')
    .option('--config <file>', 'configuration file (default: kronus.config.ts in the current folder)')
    .option('--dev', 'use the development data in ./dev, as "kronus server --dev" does')
    .addHelpText(
      'after',
      [
        '',
        'The password is asked for (twice, not shown) on a terminal, or read from stdin:',
        '  kronus user create --admin --first-name Ada --last-name Lovelace \\',
        '    --email ada@example.com --phone-number +12345678900 < password.txt',
        'Same rules as POST /v1/users; refused once any user exists. Works while a server is running.'
      ].join('\n')
    )
    .action(async (_action: 'create', flags: UserCreateFlags) => {
      const { createFirstAdmin } = await import('./user-create.js')
      await createFirstAdmin(flags, impliedPlugins)
    })
}
