import type { Command } from 'commander'
import { systemClock } from '../../clock.js'
import { loadConfig } from '../../config/load.js'

export interface RestoreCommandFlags {
  config?: string
  from?: string
  force?: boolean
}

export function registerRestoreCommand(program: Command): void {
  program
    .command('restore')
    .description('restore the database from a backup in Google Cloud Storage (the latest by default)')
    .option('--from <name>', 'the backup to restore, as "kronus backup list" shows it')
    .option('--force', 'replace an existing database (stop the server first)')
    .option('--config <file>', 'configuration file (default: kronus.config.ts in the current folder)')
    .addHelpText('after', '\nThe download is checked (checksum, passphrase, integrity) before it replaces anything.')
    .action(async (flags: RestoreCommandFlags) => {
      const config = await loadConfig({ file: flags.config, dev: false, cwd: process.cwd(), env: process.env })
      const { restoreBackup } = await import('../../../plugins/gcs-backup/cli.js')
      await restoreBackup({ config, clock: systemClock, stdout: process.stdout, stderr: process.stderr }, { from: flags.from, force: flags.force })
    })
}
