import { Storage, type StorageOptions } from '@google-cloud/storage'
import type { Clock, KronusConfig } from 'kronus'
import type { ResolvedGcsBackupOptions } from './settings.js'
import { BackupStore } from './store.js'

/** Points the client at a GCS emulator instead of Google, without credentials. For tests and local emulators only. */
export const API_ENDPOINT_ENV = 'KRONUS_GCS_API_ENDPOINT'

/**
 * The storage client: google.applicationCredentials when set, else Google's default
 * credentials (GOOGLE_APPLICATION_CREDENTIALS, or the machine's identity on Google Cloud).
 */
export function createStorageClient(
  config: KronusConfig,
  options: Pick<ResolvedGcsBackupOptions, 'apiEndpoint' | 'createStorage'>,
  env: Readonly<Record<string, string | undefined>> = process.env
): Storage {
  if (options.createStorage) return options.createStorage(config)
  const storageOptions: StorageOptions = {}
  const apiEndpoint = options.apiEndpoint ?? (env[API_ENDPOINT_ENV] || undefined)
  if (apiEndpoint) storageOptions.apiEndpoint = apiEndpoint
  if (config.google.applicationCredentials) storageOptions.keyFilename = config.google.applicationCredentials
  return new Storage(storageOptions)
}

/** The backup store of a configuration: its bucket and prefix, keyed with its passphrase. */
export function createBackupStore(
  config: KronusConfig,
  options: Pick<ResolvedGcsBackupOptions, 'apiEndpoint' | 'createStorage'>,
  clock: Clock,
  env?: Readonly<Record<string, string | undefined>>
): BackupStore {
  const { bucket, prefix } = config.google.storage
  if (!bucket) throw new Error('google.storage.bucket is not set: it names the bucket that holds the backups')
  return new BackupStore({
    storage: createStorageClient(config, options, env),
    bucket,
    prefix,
    passPhrase: config.kronus.sqlite.passPhrase,
    clock
  })
}
