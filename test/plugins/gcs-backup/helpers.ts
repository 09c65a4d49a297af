import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  all,
  close,
  openKeyedReadOnly,
  openReadOnly,
  run,
  type SqlcipherDatabase,
  sqlString
} from '../../../plugins/gcs-backup/sqlcipher-file.js'

interface Tap {
  teardown(fn: () => unknown): void
}

/** A temp folder removed when the test ends. */
export function tempDir(t: Tap, label = 'kronus-gcs-backup-'): string {
  const dir = mkdtempSync(join(tmpdir(), label))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `sql` on a snapshot opened read-only with `passPhrase`, outside the code under test. */
export async function querySnapshot(
  file: string,
  passPhrase: string,
  sql: string
): Promise<Array<Record<string, unknown>>> {
  const db: SqlcipherDatabase = await openKeyedReadOnly(file, passPhrase)
  try {
    return await all(db, sql)
  } finally {
    await close(db)
  }
}

/** Runs `sql` on a file opened without any key, as someone who stole the backup would. */
export async function querySnapshotWithoutKey(file: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await openReadOnly(file)
  try {
    return await all(db, sql)
  } finally {
    await close(db)
  }
}

/** Creates a database outside Kronus, keyed when `passPhrase` is given, plain SQLite otherwise. */
export async function createDatabase(file: string, passPhrase: string | null, statements: string[]): Promise<void> {
  const driver = createRequire(import.meta.url)('@journeyapps/sqlcipher') as {
    Database: new (filename: string, cb: (err: Error | null) => void) => SqlcipherDatabase
  }
  const db = await new Promise<SqlcipherDatabase>((resolve, reject) => {
    const opened = new driver.Database(file, (err) => (err ? reject(err) : resolve(opened)))
  })
  try {
    if (passPhrase !== null) await run(db, `PRAGMA key = ${sqlString(passPhrase)}`)
    for (const sql of statements) await run(db, sql)
  } finally {
    await close(db)
  }
}
