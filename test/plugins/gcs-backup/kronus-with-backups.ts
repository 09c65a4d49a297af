import type { Storage } from '@google-cloud/storage'
import { type GcsBackupOptions, gcsBackup } from '../../../plugins/gcs-backup/index.js'
import type { FakeClock } from '../../../src/clock.js'
import type { KronusConfigInput } from '../../../src/config/types.js'
import { FakeGcsApi } from '../../fakes/gcs-api.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'

export const BUCKET = 'kronus-backups'
export const PREFIX = 'kronus'
/** A Monday noon, UTC: the hourly schedule below fires at 13:00. */
export const T0 = Date.UTC(2026, 10, 30, 12, 0, 0)
export const HOURLY = '0 * * * *'

interface Tap {
  teardown(fn: () => unknown): void
}

/** The emulator, stamping objects with the test's clock, closed when the test ends. */
export async function startFakeGcs(t: Tap, clock: FakeClock): Promise<FakeGcsApi> {
  const fake = await FakeGcsApi.start({ buckets: [BUCKET], now: () => clock.now() })
  t.teardown(() => fake.close())
  return fake
}

/** The real client against the emulator; its own retries off, so the queue's retries are what the tests see. */
export function emulatorStorage(fake: FakeGcsApi): () => Storage {
  return () => fake.storage({ retryOptions: { autoRetry: false } })
}

/** Configuration with sync on and the plugin pointed at the emulator. */
export function syncConfig(
  fake: FakeGcsApi,
  options: Partial<GcsBackupOptions> = {},
  enabled = true
): KronusConfigInput {
  return {
    google: {
      storage: { bucket: BUCKET, prefix: PREFIX, sqliteBackupSchedule: HOURLY, enableSqliteBackupAndSync: enabled }
    },
    plugins: [gcsBackup({ createStorage: emulatorStorage(fake), ...options })]
  }
}

export interface BackupKronusOptions {
  fake: FakeGcsApi
  clock: FakeClock
  dir?: string
  plugin?: Partial<GcsBackupOptions>
  enabled?: boolean
}

/** A Kronus on the SQLCipher file (backups are for it only) with sync on, against the emulator. */
export function buildBackupKronus(t: Tap, options: BackupKronusOptions): Promise<TestKronus> {
  return buildKronus(t, {
    database: 'sqlcipher',
    clock: options.clock,
    dir: options.dir,
    config: syncConfig(options.fake, options.plugin, options.enabled ?? true)
  })
}

/** Names of the backups the emulator holds, oldest first. */
export function storedBackups(fake: FakeGcsApi): string[] {
  return fake
    .objects(BUCKET)
    .map((o) => o.name)
    .filter((name) => name.startsWith(`${PREFIX}/kronus-`))
}

export function latestPointer(fake: FakeGcsApi): string | undefined {
  return fake.object(BUCKET, `${PREFIX}/latest`)?.data.toString()
}
