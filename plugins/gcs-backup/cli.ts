/**
 * What `kronus backup`, `kronus backup list` and `kronus restore` do. They work from the
 * configuration alone, with or without a server running, and need only google.storage.bucket:
 * enableSqliteBackupAndSync turns the automatic backups on, not these commands.
 */
import type { Knex } from 'knex'
import type { Clock, KronusConfig } from 'kronus'
import { BackupError, describe } from './errors.js'
import { fileExists } from './file-exists.js'
import { formatBytes, ProgressLine, type ProgressStream } from './progress-line.js'
import { defaultGcsBackupOptions, GCS_BACKUP_PLUGIN, type ResolvedGcsBackupOptions } from './settings.js'
import { createBackupStore } from './storage-client.js'
import type { BackupStore, RestoredBackup } from './store.js'
import { type TakenBackup, takeBackup } from './take-backup.js'

export interface BackupCommandContext {
  config: KronusConfig
  clock: Clock
  /** Results. */
  stdout: ProgressStream
  /** Progress and warnings. */
  stderr: ProgressStream
  env?: Readonly<Record<string, string | undefined>>
  /** Opens the configured database without migrating it, after checking its passphrase. */
  openDatabase(config: KronusConfig): Promise<Knex>
}

export interface RestoreCommandOptions {
  /** A backup name as `kronus backup list` shows it; the latest when omitted. */
  from?: string
  /** Replace an existing database. */
  force?: boolean
}

/** The plugin's options from the configuration's plugin list, or its defaults when it is not listed. */
function pluginOptions(config: KronusConfig): ResolvedGcsBackupOptions {
  const listed = config.plugins.find((plugin) => plugin.name === GCS_BACKUP_PLUGIN)
  return (listed?.options as ResolvedGcsBackupOptions | undefined) ?? defaultGcsBackupOptions()
}

function openStore(context: BackupCommandContext): { store: BackupStore; options: ResolvedGcsBackupOptions } {
  const { config } = context
  if (config.database.client !== 'sqlcipher') {
    throw new Error('backups are of the sqlcipher database only; back PostgreSQL up with its own tools')
  }
  const options = pluginOptions(config)
  return { store: createBackupStore(config, options, context.clock, context.env), options }
}

/** Takes one backup of the configured database now and uploads it. */
export async function backupNow(context: BackupCommandContext): Promise<TakenBackup> {
  const { config, stdout, stderr } = context
  const { store, options } = openStore(context)
  const { filename } = config.database
  // Opening a missing file would create an empty database, and back that up.
  if (!(await fileExists(filename))) throw new Error(`there is no database at ${filename} to back up`)
  // Another connection beside a running server's: the snapshot is one read transaction, so both go on.
  const knex = await context.openDatabase(config)
  stderr.write(`taking a snapshot of ${filename}\n`)
  const progress = new ProgressLine(stderr, `uploading to ${store.location}`)
  let taken: TakenBackup
  try {
    taken = await takeBackup({
      knex,
      store,
      clock: context.clock,
      keep: options.keep,
      onUploadProgress: (done, total) => progress.update(done, total),
      onPruneFailure: (err) => stderr.write(`warning: ${describe(err)}\n`)
    })
  } finally {
    progress.finish()
    await knex.destroy()
  }
  stdout.write(`backed up ${filename} to ${objectUrl(config, taken.name)} (${formatBytes(taken.bytes)})\n`)
  if (taken.pruned.length > 0) stdout.write(`deleted ${taken.pruned.length} old backup(s), keeping ${options.keep}\n`)
  return taken
}

/** Prints the backups, newest first, marking the one a restore would use. */
export async function listBackups(context: BackupCommandContext): Promise<void> {
  const { stdout } = context
  const { store } = openStore(context)
  const backups = await store.list()
  if (backups.length === 0) {
    stdout.write(`no backups in ${store.location}\n`)
    return
  }
  const latest = await store.latest()
  stdout.write(`backups in ${store.location}, newest first:\n`)
  for (const backup of backups) {
    const base = backup.name.slice(backup.name.lastIndexOf('/') + 1)
    const marker = backup.name === latest ? '  (latest)' : ''
    stdout.write(
      `${base}  ${new Date(backup.takenAt).toISOString()}  ${formatBytes(backup.bytes).padStart(10)}${marker}\n`
    )
  }
}

/**
 * Downloads a backup (the latest by default) into a temp file beside the database,
 * verifies it, then moves it into place. An existing database is replaced only with `force`.
 */
export async function restoreBackup(
  context: BackupCommandContext,
  options: RestoreCommandOptions = {}
): Promise<RestoredBackup> {
  const { config, stdout, stderr } = context
  const { store } = openStore(context)
  const { filename } = config.database
  const name = options.from ?? (await store.latest())
  if (name === null) throw new BackupError('no-backup', `there is no backup in ${store.location} to restore`)
  const progress = new ProgressLine(stderr, `downloading ${name.slice(name.lastIndexOf('/') + 1)}`)
  let restored: RestoredBackup
  try {
    restored = await store.download(name, filename, {
      overwrite: options.force === true,
      onProgress: (done, total) => progress.update(done, total)
    })
  } catch (err) {
    if (err instanceof BackupError && err.code === 'destination') {
      throw new Error(
        `${err.message}. Stop any Kronus server using it, then run "kronus restore --force" to replace it`,
        { cause: err }
      )
    }
    throw err
  } finally {
    progress.finish()
  }
  stdout.write(
    `restored ${objectUrl(config, restored.name)} (${formatBytes(restored.bytes)}, ${restored.verified.migrations} migrations, integrity checked) to ${filename}\n`
  )
  return restored
}

function objectUrl(config: KronusConfig, objectName: string): string {
  return `gs://${config.google.storage.bucket}/${objectName}`
}
