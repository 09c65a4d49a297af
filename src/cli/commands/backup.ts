import { Argument, type Command } from 'commander'
import { systemClock } from '../../clock.js'
import { loadConfig } from '../../config/load.js'

export interface BackupCommandOptions {
  config?: string
}

export function registerBackupCommand(program: Command): void {
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
    .action(async (action: 'list' | undefined, options: BackupCommandOptions) => {
      const config = await loadConfig({ file: options.config, dev: false, cwd: process.cwd(), env: process.env })
      // Loaded here so other commands never load the storage client.
      const { backupNow, listBackups } = await import('../../../plugins/gcs-backup/cli.js')
      const context = { config, clock: systemClock, stdout: process.stdout, stderr: process.stderr }
      if (action === 'list') await listBackups(context)
      else await backupNow(context)
    })
}
