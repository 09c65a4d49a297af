import type { Storage } from '@google-cloud/storage'
import Joi from 'joi'
import type { KronusConfig } from 'kronus'

export interface GcsBackupOptions {
  /** Backups kept in the bucket; older ones are deleted after each backup. Default 24. */
  keep?: number
  /** Tries of one scheduled backup before it waits for the next fire. Default 4. */
  maxAttempts?: number
  /** Downloads tried at start-up when the bytes arrive damaged. Default 3. */
  restoreAttempts?: number
  /**
   * Another GCS JSON API endpoint, for emulators only (fake-gcs-server, tests): requests
   * to it carry no Google credentials. Default: Google's, or KRONUS_GCS_API_ENDPOINT.
   */
  apiEndpoint?: string
  /** Builds the storage client instead of the default one (credentials from the config). */
  createStorage?: (config: KronusConfig) => Storage
}

export type ResolvedGcsBackupOptions = Required<Omit<GcsBackupOptions, 'apiEndpoint' | 'createStorage'>> &
  Pick<GcsBackupOptions, 'apiEndpoint' | 'createStorage'>

export const GCS_BACKUP_PLUGIN = 'gcs-backup'

export const gcsBackupOptionsSchema = Joi.object<ResolvedGcsBackupOptions>({
  keep: Joi.number().integer().min(1).max(10_000).default(24),
  maxAttempts: Joi.number().integer().min(1).max(20).default(4),
  restoreAttempts: Joi.number().integer().min(1).max(10).default(3),
  apiEndpoint: Joi.string().uri({ scheme: ['http', 'https'] }),
  createStorage: Joi.function()
})

/** The options a plugin entry would have with nothing given, for commands run without one. */
export function defaultGcsBackupOptions(): ResolvedGcsBackupOptions {
  return Joi.attempt({}, gcsBackupOptionsSchema) as ResolvedGcsBackupOptions
}

/**
 * Backups run and a missing database is restored only when the seed's switch is on, the
 * database is the SQLCipher file, and this is not dev mode (dev data must never reach a
 * real bucket, nor a real backup replace dev data).
 */
export function isSyncEnabled(config: Pick<KronusConfig, 'google' | 'database' | 'dev'>): boolean {
  return config.google.storage.enableSqliteBackupAndSync && config.database.client === 'sqlcipher' && !config.dev
}
