import { Argument, type Command } from 'commander'
import type { PluginCommandContext } from 'kronus'
import type { BackupCommandContext } from './cli.js'

/*
 * `kronus backup`, `kronus backup list` and `kronus restore`. What they do is in cli.ts,
 * loaded when one runs, so other commands never load the storage client.
 */

interface BackupFlags {
  config?: string
}

interface RestoreFlags {
  config?: string
  from?: string
  force?: boolean
}

async function commandContext(cli: PluginCommandContext, file: string | undefined): Promise<BackupCommandContext> {
  const config = await cli.loadConfig(file)
  return {
    config,
    clock: cli.clock,
    stdout: cli.stdout,
    stderr: cli.stderr,
    openDatabase: (config) => cli.openDatabase(config)
  }
}

export function registerBackupCommands(program: Command, cli: PluginCommandContext): void {
  program
    .command('backup')
    .description('back the database up to Google Cloud Storage now, or list the backups')
    .addArgument(new Argument('[action]', '"list" to list the backups instead of taking one').choices(['list']))
    .option('--config <file>', 'configuration file (default: kronus.config.ts in the current folder)')
    .addHelpText(
      'after',
      [
        '',
        'Uses google.storage.bucket and prefix, and works while a server is running.',
        '  kronus backup          take a consistent, encrypted snapshot and upload it',
        '  kronus backup list     list the backups, newest first'
      ].join('\n')
    )
    .action(async (action: 'list' | undefined, flags: BackupFlags) => {
      const context = await commandContext(cli, flags.config)
      const { backupNow, listBackups } = await import('./cli.js')
      if (action === 'list') await listBackups(context)
      else await backupNow(context)
    })

  program
    .command('restore')
    .description('restore the database from a backup in Google Cloud Storage (the latest by default)')
    .option('--from <name>', 'the backup to restore, as "kronus backup list" shows it')
    .option('--force', 'replace an existing database (stop the server first)')
    .option('--config <file>', 'configuration file (default: kronus.config.ts in the current folder)')
    .addHelpText('after', '\nThe download is checked (checksum, passphrase, integrity) before it replaces anything.')
    .action(async (flags: RestoreFlags) => {
      const context = await commandContext(cli, flags.config)
      const { restoreBackup } = await import('./cli.js')
      await restoreBackup(context, { from: flags.from, force: flags.force })
    })
}
