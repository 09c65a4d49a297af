/**
 * gcs-backup: consistent, encrypted backups of the SQLCipher database to Google Cloud
 * Storage, on google.storage.sqliteBackupSchedule and at shutdown, and the latest backup
 * restored at start-up when the database file is missing. Everything is gated by
 * google.storage.enableSqliteBackupAndSync (see isSyncEnabled); with it off the plugin
 * does nothing.
 *
 *   plugins: [gcsBackup({ keep: 48 })]
 */
import { definePlugin, PermanentJobError, type PluginContext } from 'kronus'
import { registerBackupCommands } from './commands.js'
import { BackupError, describe } from './errors.js'
import { restoreMissingDatabase } from './restore.js'
import {
  type GcsBackupOptions,
  gcsBackupOptionsSchema,
  isSyncEnabled,
  type ResolvedGcsBackupOptions
} from './settings.js'
import type { createBackupStore } from './storage-client.js'
import type { BackupStore } from './store.js'
import { type TakenBackup, takeBackup } from './take-backup.js'

declare module 'kronus' {
  interface KronusEvents {
    /** A backup is stored and `latest` names it. */
    'backup.completed': { name: string; bytes: number; durationMs: number }
    /** A backup attempt failed; `willRetry` says whether the queue tries it again. */
    'backup.failed': { error: string; attempt: number; willRetry: boolean }
  }
  interface KronusJobs {
    'gcs-backup.run': Record<string, never>
  }
}

export type { GcsBackupOptions } from './settings.js'

const JOB = 'gcs-backup.run'
// The queue bounds a run at 4 minutes of lock; a Kronus database uploads in seconds.
const JOB_TIMEOUT_MS = 180_000
const JOB_LOCK_MS = 210_000

/** Worth trying again: everything but a transfer GCS refused for good (a missing bucket, no permission). */
function isRetryable(err: unknown): boolean {
  return !(err instanceof BackupError) || err.retryable || err.code === 'exists'
}

class Backups {
  // One backup at a time: a shutdown backup waits for a scheduled one still uploading.
  #running: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly kronus: PluginContext,
    private readonly store: BackupStore,
    private readonly options: ResolvedGcsBackupOptions
  ) {}

  run(): Promise<TakenBackup> {
    const next = this.#running.catch(() => undefined).then(() => this.#takeOne())
    this.#running = next
    return next
  }

  async #takeOne(): Promise<TakenBackup> {
    const { kronus } = this
    const taken = await takeBackup({
      knex: kronus.db.wholeDatabaseForBackup,
      store: this.store,
      clock: kronus.clock,
      keep: this.options.keep,
      onPruneFailure: (err) => kronus.logger.warn({ err }, 'backup stored, but old backups could not be deleted')
    })
    kronus.logger.info(
      { name: taken.name, bytes: taken.bytes, durationMs: taken.durationMs, pruned: taken.pruned },
      `backed up to ${taken.name}`
    )
    // The backup is stored: failing the run now would only upload another copy.
    await kronus.health.recovered().catch((err: unknown) => {
      kronus.logger.error({ err }, 'could not record that backups work again')
    })
    await kronus.events
      .emit('backup.completed', { name: taken.name, bytes: taken.bytes, durationMs: taken.durationMs })
      .catch((err: unknown) => {
        kronus.logger.error({ err }, 'could not record backup.completed')
      })
    return taken
  }

  async reportFailure(err: unknown, attempt: number, willRetry: boolean): Promise<void> {
    const error = describe(err)
    this.kronus.logger.error(
      { err, attempt, willRetry },
      `backup to ${this.store.location} failed${willRetry ? '; will retry' : ''}: ${error}`
    )
    await this.kronus.events.emit('backup.failed', { error, attempt, willRetry }).catch((emitErr: unknown) => {
      this.kronus.logger.error({ err: emitErr }, 'could not record backup.failed')
    })
    // The last attempt failed: Kronus is degraded until one succeeds (a retry, or the next fire).
    await this.kronus.health
      .degraded(`the last backup to ${this.store.location} failed: ${error}`)
      .catch((healthErr: unknown) => {
        this.kronus.logger.error({ err: healthErr }, 'could not record the failed backup for the watchdog')
      })
  }
}

/**
 * The storage client, loaded only when backups are on: this file is imported by every
 * `kronus` command (for the commands above), and @google-cloud/storage takes a while to load.
 */
async function loadBackupStore(...args: Parameters<typeof createBackupStore>): Promise<BackupStore> {
  const { createBackupStore } = await import('./storage-client.js')
  return createBackupStore(...args)
}

export const gcsBackup = definePlugin<GcsBackupOptions>({
  name: 'gcs-backup',
  version: '1.0.0',
  options: gcsBackupOptionsSchema,
  events: ['backup.completed', 'backup.failed'],
  commands: registerBackupCommands,

  async beforeDatabaseOpen(kronus, rawOptions) {
    const { config, logger } = kronus
    if (!isSyncEnabled(config)) return
    const options = rawOptions as ResolvedGcsBackupOptions
    const store = await loadBackupStore(config, options, kronus.clock)
    const outcome = await restoreMissingDatabase({
      store,
      filename: config.database.filename,
      attempts: options.restoreAttempts,
      onRetry: (err, attempt) =>
        logger.warn({ err, attempt }, `restoring the latest backup failed, trying again: ${err.message}`)
    })
    if (outcome.kind === 'no-backup') {
      logger.warn(
        { location: outcome.location },
        `no database and no backup in ${outcome.location}: starting with an empty database`
      )
    } else if (outcome.kind === 'restored') {
      const { backup } = outcome
      logger.info(
        { name: backup.name, bytes: backup.bytes, migrations: backup.verified.migrations },
        `restored ${config.database.filename} from ${backup.name}`
      )
    }
  },

  async register(kronus, rawOptions) {
    const { config } = kronus
    if (!config.google.storage.enableSqliteBackupAndSync || config.dev) {
      kronus.logger.info('backups are off (google.storage.enableSqliteBackupAndSync is false or dev mode)')
      return
    }
    if (config.database.client !== 'sqlcipher') {
      throw new Error(
        'it backs up the sqlcipher database only; back PostgreSQL up with its own tools, or turn google.storage.enableSqliteBackupAndSync off'
      )
    }
    const options = rawOptions as ResolvedGcsBackupOptions
    const backups = new Backups(kronus, await loadBackupStore(config, options, kronus.clock), options)

    kronus.jobs.define(
      JOB,
      async (_payload, run) => {
        try {
          await backups.run()
        } catch (err) {
          const retryable = isRetryable(err)
          await backups.reportFailure(err, run.attempt, retryable && run.attempt < run.maxAttempts)
          // A failure the queue must not retry; the next scheduled fire still tries afresh.
          if (!retryable) throw new PermanentJobError(describe(err))
          throw err
        }
      },
      { maxAttempts: options.maxAttempts, timeoutMs: JOB_TIMEOUT_MS, lockMs: JOB_LOCK_MS }
    )
    await kronus.schedules.schedule(JOB, config.google.storage.sqliteBackupSchedule, {})

    return {
      // Jobs and requests have ended: this copy holds everything written before shutdown.
      stop: async () => {
        try {
          await backups.run()
        } catch (err) {
          await backups.reportFailure(err, 1, false)
        }
      }
    }
  }
})
