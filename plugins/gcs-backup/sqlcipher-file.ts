import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The parts of @journeyapps/sqlcipher's Database this plugin uses. */
export interface SqlcipherDatabase {
  run(sql: string, cb: (err: Error | null) => void): void
  all(sql: string, cb: (err: Error | null, rows: Array<Record<string, unknown>>) => void): void
  close(cb: (err: Error | null) => void): void
}

interface SqlcipherDriver {
  OPEN_READONLY: number
  Database: new (filename: string, mode: number, cb: (err: Error | null) => void) => SqlcipherDatabase
}

export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

/**
 * Opens a SQLCipher file read-only and keys it. Read-only matters: SQLite would create a
 * missing file, and a verifier must never leave a database behind where there was none.
 */
export async function openKeyedReadOnly(filename: string, passPhrase: string): Promise<SqlcipherDatabase> {
  const db = await openReadOnly(filename)
  try {
    await run(db, `PRAGMA key = ${sqlString(passPhrase)}`)
  } catch (err) {
    await close(db)
    throw err
  }
  return db
}

/** Opens without a key: SQLCipher then reads the file as plain SQLite. */
export function openReadOnly(filename: string): Promise<SqlcipherDatabase> {
  const driver = require('@journeyapps/sqlcipher') as SqlcipherDriver
  return new Promise<SqlcipherDatabase>((resolve, reject) => {
    const opened: SqlcipherDatabase = new driver.Database(filename, driver.OPEN_READONLY, (err) =>
      err ? reject(err) : resolve(opened)
    )
  })
}

export function run(db: SqlcipherDatabase, sql: string): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, (err) => (err ? reject(err) : resolve())))
}

export function all(db: SqlcipherDatabase, sql: string): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows))))
}

export function close(db: SqlcipherDatabase): Promise<void> {
  return new Promise((resolve) => db.close(() => resolve()))
}
