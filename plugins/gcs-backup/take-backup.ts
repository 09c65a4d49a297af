import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import type { Clock } from 'kronus'
import { describe } from './errors.js'
import { takeSnapshot } from './snapshot.js'
import type { BackupStore } from './store.js'
import type { TransferProgress } from './transfer-meter.js'

export interface TakeBackupOptions {
  knex: Knex
  store: BackupStore
  clock: Clock
  /** Backups kept after this one. */
  keep: number
  onUploadProgress?: TransferProgress
  /** Old backups that could not be deleted; the new backup stands all the same. */
  onPruneFailure?: (err: unknown) => void
}

export interface TakenBackup {
  /** Object name, prefix included. */
  name: string
  bytes: number
  durationMs: number
  /** Old backups deleted to keep `keep`. */
  pruned: string[]
}

/**
 * One backup: a consistent encrypted snapshot of the open database, uploaded under a new
 * name with its checksum verified, `latest` moved to it, then old backups pruned. The
 * snapshot is written to a private temp folder and removed whatever happens.
 */
export async function takeBackup(options: TakeBackupOptions): Promise<TakenBackup> {
  const { knex, store, clock, keep } = options
  const startedAt = clock.now()
  const dir = await mkdtemp(join(tmpdir(), 'kronus-backup-'))
  try {
    const snapshot = await takeSnapshot(knex, join(dir, 'kronus.db'))
    const stored = await store.upload(snapshot.file, { takenAt: startedAt, onProgress: options.onUploadProgress })
    let pruned: string[] = []
    try {
      pruned = await store.prune(keep)
    } catch (err) {
      // The backup is safely stored; failing it now would only upload another copy.
      options.onPruneFailure?.(new Error(`could not prune old backups: ${describe(err)}`, { cause: err }))
    }
    return { name: stored.name, bytes: stored.bytes, durationMs: clock.now() - startedAt, pruned }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
