import { open, stat } from 'node:fs/promises'
import { all, close, openKeyedReadOnly, type SqlcipherDatabase } from './sqlcipher-file.js'

/** A snapshot file that must not be restored; `reason` says why in words a user can act on. */
export class SnapshotRejectedError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string
  ) {
    super(`refusing backup ${file}: ${reason}`)
    this.name = 'SnapshotRejectedError'
  }
}

export interface VerifiedSnapshot {
  bytes: number
  /** How many knex migrations the snapshot has run: tells an old backup from a new one. */
  migrations: number
}

const PLAIN_SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')
/** SQLite's smallest page size: every intact database file is a whole number of them. */
const MIN_PAGE_SIZE = 512
const MIGRATIONS_TABLE = 'knex_migrations'

/**
 * Proves a snapshot is a whole, undamaged, encrypted Kronus database readable with
 * `passPhrase`, before anything is allowed to replace the live database with it.
 *
 * The file checks come first because SQLite "opens" a missing or zero-byte file as an
 * empty database without complaint, which would restore as a Kronus with no users.
 */
export async function verifySnapshot(file: string, passPhrase: string): Promise<VerifiedSnapshot> {
  if (!passPhrase) throw new SnapshotRejectedError(file, 'kronus.sqlite.passPhrase is empty, so it cannot be decrypted')
  const bytes = await fileSize(file)
  if (bytes === 0) throw new SnapshotRejectedError(file, 'the file is empty')
  if (bytes % MIN_PAGE_SIZE !== 0) {
    throw new SnapshotRejectedError(file, `it is truncated: ${bytes} bytes is not a whole number of database pages`)
  }
  if ((await readHeader(file, PLAIN_SQLITE_HEADER.length)).equals(PLAIN_SQLITE_HEADER)) {
    throw new SnapshotRejectedError(file, 'it is a plain, unencrypted SQLite file, not an encrypted Kronus snapshot')
  }

  let db: SqlcipherDatabase
  try {
    db = await openKeyedReadOnly(file, passPhrase)
  } catch (err) {
    throw new SnapshotRejectedError(file, `it cannot be opened (${(err as Error).message})`)
  }
  try {
    try {
      // The first read decrypts page 1: a wrong key and a damaged first page look the same.
      await all(db, 'SELECT count(*) AS n FROM sqlite_master')
    } catch (err) {
      const message = (err as Error).message
      if (/SQLITE_CORRUPT/.test(message)) {
        throw new SnapshotRejectedError(file, `it is corrupt or truncated (${message})`)
      }
      throw new SnapshotRejectedError(
        file,
        `it cannot be decrypted with kronus.sqlite.passPhrase: wrong passphrase, corrupt, or not a Kronus database (${message})`
      )
    }
    await checkPages(db, file)
    const migrations = await countMigrations(db, file)
    return { bytes, migrations }
  } finally {
    await close(db)
  }
}

async function checkPages(db: SqlcipherDatabase, file: string): Promise<void> {
  let cipherErrors: Array<Record<string, unknown>>
  let integrity: Array<Record<string, unknown>>
  try {
    // Every page carries an HMAC; this catches a flipped byte integrity_check might read past.
    cipherErrors = await all(db, 'PRAGMA cipher_integrity_check')
    integrity = await all(db, 'PRAGMA integrity_check')
  } catch (err) {
    throw new SnapshotRejectedError(file, `it is corrupt (${(err as Error).message})`)
  }
  if (cipherErrors.length > 0) {
    throw new SnapshotRejectedError(file, `it is corrupt: ${describeRows(cipherErrors)}`)
  }
  const verdict = describeRows(integrity)
  if (verdict !== 'ok') throw new SnapshotRejectedError(file, `it fails PRAGMA integrity_check: ${verdict}`)
}

async function countMigrations(db: SqlcipherDatabase, file: string): Promise<number> {
  const tables = await all(db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name = '${MIGRATIONS_TABLE}'`)
  if (tables.length === 0) {
    throw new SnapshotRejectedError(file, `it is not a Kronus database: it has no ${MIGRATIONS_TABLE} table`)
  }
  const [row] = await all(db, `SELECT count(*) AS n FROM ${MIGRATIONS_TABLE}`)
  const migrations = Number(row?.n ?? 0)
  if (migrations === 0) {
    throw new SnapshotRejectedError(file, `it is not a Kronus database: ${MIGRATIONS_TABLE} is empty`)
  }
  return migrations
}

async function fileSize(file: string): Promise<number> {
  try {
    const info = await stat(file)
    if (!info.isFile()) throw new SnapshotRejectedError(file, 'it is not a regular file')
    return info.size
  } catch (err) {
    if (err instanceof SnapshotRejectedError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new SnapshotRejectedError(file, 'the file does not exist')
    throw err
  }
}

async function readHeader(file: string, length: number): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(length)
    const { bytesRead } = await handle.read(buffer, 0, length, 0)
    return buffer.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

function describeRows(rows: Array<Record<string, unknown>>): string {
  return rows
    .slice(0, 5)
    .map((row) => Object.values(row).join(' '))
    .join('; ')
}
