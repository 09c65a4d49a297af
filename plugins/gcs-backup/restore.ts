import { BackupError } from './errors.js'
import { fileExists } from './file-exists.js'
import type { BackupStore, RestoredBackup } from './store.js'
import { SnapshotRejectedError } from './verify.js'

export type RestoreOnStartOutcome =
  /** A database is already there: it is never replaced at start-up. */
  | { kind: 'present' }
  /** The bucket holds no backup: a first start, the only case that may start empty. */
  | { kind: 'no-backup'; location: string }
  | { kind: 'restored'; backup: RestoredBackup; attempts: number }

export interface RestoreOnStartOptions {
  store: BackupStore
  /** The database file Kronus is about to open. */
  filename: string
  /** Downloads tried when the bytes arrive damaged or the transfer drops. */
  attempts: number
  /** Told about each damaged download that is tried again. */
  onRetry?: (err: BackupError, attempt: number) => void
}

/** Start-up cannot go on: the database is missing and the stored copy could not be restored. */
export class RestoreRefusedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RestoreRefusedError'
  }
}

/**
 * Puts the latest backup in place of a missing database, before Kronus opens it. The
 * download is checked (length, CRC32C, decryption, integrity, migrations) before it is
 * renamed into place, so a damaged one never becomes the database; and since SQLite
 * would create an empty database where none is, any failure other than an empty bucket
 * stops start-up rather than let Kronus run with no users.
 */
export async function restoreMissingDatabase(options: RestoreOnStartOptions): Promise<RestoreOnStartOutcome> {
  const { store, filename } = options
  if (await fileExists(filename)) return { kind: 'present' }
  let name: string | null = null
  for (let attempt = 1; ; attempt++) {
    try {
      name ??= await store.latest()
      if (name === null) return { kind: 'no-backup', location: store.location }
      const backup = await store.download(name, filename)
      return { kind: 'restored', backup, attempts: attempt }
    } catch (err) {
      if (err instanceof BackupError && err.retryable && attempt < options.attempts) {
        options.onRetry?.(err, attempt)
        continue
      }
      const what =
        name === null ? `the latest backup in ${store.location}` : `backup ${name} (latest in ${store.location})`
      throw new RestoreRefusedError(
        `${filename} does not exist and ${what} could not be restored (${attempt} attempt${attempt === 1 ? '' : 's'}): ${reasonOf(err)}. ` +
          'Kronus did not start rather than run on an empty database. Fix the cause, restore a named backup with ' +
          '"kronus restore --from NAME", or turn google.storage.enableSqliteBackupAndSync off to start empty.',
        { cause: err }
      )
    }
  }
}

function reasonOf(err: unknown): string {
  // The rejected file is a temp download; what matters to the reader is why.
  if (err instanceof SnapshotRejectedError) return `refused: ${err.reason}`
  return err instanceof Error ? err.message : String(err)
}
