import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import knexFactory, { type Knex } from 'knex'
import type Pg from 'pg'
import { ensurePrivateDirectory, ensurePrivateFile, tightenIfPresent } from '../util/private-files.js'

const require = createRequire(import.meta.url)
// knex's SQLite client expects the `sqlite3` API; @journeyapps/sqlcipher is a drop-in for it.
const Client_SQLite3 = require('knex/lib/dialects/sqlite3/index.js')
const QueryCompiler_SQLite3: new (
  ...args: any[]
) => any = require('knex/lib/dialects/sqlite3/query/sqlite-querycompiler.js')

/**
 * knex's SQLite compiler with one change: a multi-row insert is written as
 * `insert into t (a, b) values (?, ?), (?, ?)`, as on PostgreSQL, not as knex's
 * `insert into t (a, b) select ? as "a", ? as "b" union all select ? as "a", …`, which
 * built and quoted an alias for every cell (about a third of the bytes a fan-out
 * allocated: docs/BENCHMARKS.md, "fewer bytes per text"). The rows' placeholders are one
 * string shared by every row whose values are plain (a raw value, a builder or an object
 * is compiled by knex's parameterize, as knex would), and the values are read from the
 * rows as they are, not copied into an array per row first. The columns are the rows'
 * keys, sorted, as knex's. SQLite has taken multi-row VALUES since 3.7.11; the rows go in
 * in the order listed, as before, and VALUES needs no `where true` before an ON CONFLICT
 * clause. Single rows, raw and empty inserts are knex's own.
 */
class SQLCipherQueryCompiler extends QueryCompiler_SQLite3 {
  insert() {
    const rows: Array<Record<string, unknown>> = this.single.insert
    if (!Array.isArray(rows) || rows.length < 2 || rows.some((row) => row == null || typeof row !== 'object'))
      return super.insert()
    const keys = new Set<string>()
    for (const row of rows) for (const key in row) if (Object.hasOwn(row, key)) keys.add(key)
    if (keys.size === 0) return super.insert()
    const columns = [...keys].sort()
    // Before the values, as knex does: a WITH clause or a raw table name may have bindings of its own.
    const head = `${this.with()}insert into ${this.tableName} (${this.formatter.columnize(columns)}) values `
    const notSet = this.client.valueForUndefined
    const bindings: unknown[] = this.bindingsHolder.bindings
    const plain = `(${columns.map(() => '?').join(', ')})`
    const tuples: string[] = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      let cells: string[] | null = null
      for (let j = 0; j < columns.length; j++) {
        const value = row[columns[j]!]
        if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
          cells ??= columns.slice(0, j).map(() => '?')
          cells.push(this.client.parameterize([value], notSet, this.builder, this.bindingsHolder))
          continue
        }
        // As knex's own: `sqlite` cannot insert a column's default into one row of several.
        if (value === undefined && notSet !== null)
          throw new TypeError(
            '`sqlite` does not support inserting default values. Specify values explicitly or use the `useNullAsDefault` config flag.'
          )
        bindings.push(value === undefined ? notSet : value)
        cells?.push('?')
      }
      tuples[i] = cells ? `(${cells.join(', ')})` : plain
    }
    let sql = head + tuples.join(', ')
    const { onConflict, ignore, merge, returning } = this.single
    if (onConflict && ignore) sql += this._ignore(onConflict)
    else if (onConflict && merge) {
      sql += this._merge(merge.updates, onConflict, rows)
      const wheres = this.where()
      if (wheres) sql += ` ${wheres}`
    }
    if (returning) sql += this._returning(returning)
    return { sql, returning }
  }
}

class ClientSQLCipher extends Client_SQLite3 {
  _driver() {
    return require('@journeyapps/sqlcipher')
  }

  queryCompiler(builder: unknown, formatter: unknown) {
    return new SQLCipherQueryCompiler(this, builder, formatter)
  }
}

/**
 * node-pg, loaded only for a PostgreSQL database: a SQLCipher server never needs it (about
 * 3 MiB of idle RSS, docs/BENCHMARKS.md). knex's pg client requires the same module.
 */
function loadPostgresDriver(): void {
  const pg = require('pg') as typeof Pg
  // Timestamps are bigint epoch milliseconds; node-pg would hand them back as strings.
  pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v))
}

export interface DatabaseOptions {
  client: 'sqlcipher' | 'postgres'
  /** SQLCipher file. */
  filename?: string
  passPhrase?: string
  /** PostgreSQL connection string. */
  connection?: string
  /** PostgreSQL schema to use (tests give each file its own). */
  searchPath?: string
}

/** The files SQLite keeps beside the database while it is open. */
const SQLITE_SIDECARS = ['-wal', '-shm', '-journal'] as const

/** The SQLCipher file and the files SQLite keeps beside it. */
export function sqlcipherFiles(filename: string): string[] {
  const file = resolve(filename)
  return [file, ...SQLITE_SIDECARS.map((suffix) => file + suffix)]
}

/**
 * Makes the SQLCipher file and its directory owner-only before SQLite opens them: the file
 * is created 0600 (an existing one tightened), and SQLite gives the WAL, shared-memory and
 * journal files it creates the database file's mode. Returns whether the directory, which
 * Kronus does not change when it already exists, is open to others.
 */
export function prepareSqlcipherFiles(filename: string): { directory: string; openToOthers: boolean } {
  const file = resolve(filename)
  const directory = dirname(file)
  const { openToOthers } = ensurePrivateDirectory(directory)
  ensurePrivateFile(file)
  for (const suffix of SQLITE_SIDECARS) tightenIfPresent(file + suffix)
  return { directory, openToOthers }
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`
}

type SqliteConnection = {
  run(sql: string, cb: (err: Error | null) => void): void
  get(sql: string, cb: (err: Error | null, row: any) => void): void
}

function run(conn: SqliteConnection, sql: string): Promise<void> {
  return new Promise((res, rej) => conn.run(sql, (err) => (err ? rej(err) : res())))
}

function get(conn: SqliteConnection, sql: string): Promise<any> {
  return new Promise((res, rej) => conn.get(sql, (err, row) => (err ? rej(err) : res(row))))
}

/**
 * Opens the configured database. SQLCipher is keyed before any other statement, then
 * set to WAL with synchronous=FULL so an acknowledged write survives a power cut.
 * A wrong passphrase fails here, at open, rather than at the first query.
 */
export function createKnex(options: DatabaseOptions): Knex {
  if (options.client === 'postgres') {
    loadPostgresDriver()
    return knexFactory({
      client: 'pg',
      connection: options.connection,
      searchPath: options.searchPath ? [options.searchPath] : undefined,
      pool: { min: 0, max: 10 }
    })
  }
  if (!options.filename) throw new Error('database.filename is required for sqlcipher')
  if (!options.passPhrase) throw new Error('kronus.sqlite.passPhrase is required for sqlcipher')
  const filename = resolve(options.filename)
  prepareSqlcipherFiles(filename)
  const passPhrase = options.passPhrase
  return knexFactory({
    client: ClientSQLCipher as unknown as typeof Knex.Client,
    connection: { filename },
    useNullAsDefault: true,
    // One connection: SQLite has a single writer, and serialising here avoids SQLITE_BUSY.
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: SqliteConnection, done: (err: Error | null, conn: SqliteConnection) => void) => {
        ;(async () => {
          await run(conn, `PRAGMA key = ${sqlString(passPhrase)}`)
          // Reading the schema proves the key is right; a wrong one reports "file is not a database".
          await get(conn, 'SELECT count(*) AS n FROM sqlite_master')
          await get(conn, 'PRAGMA journal_mode = WAL')
          await run(conn, 'PRAGMA synchronous = FULL')
          await run(conn, 'PRAGMA foreign_keys = ON')
          await run(conn, 'PRAGMA busy_timeout = 5000')
        })().then(
          () => done(null, conn),
          (err: Error) => done(err, conn)
        )
      }
    }
  })
}

export { isPostgres } from './dialect.js'

/**
 * Opens the SQLCipher file once with the passphrase and reads its schema. knex's pool
 * would retry a wrong key until its acquire timeout; this fails at once with a clear message.
 */
export async function assertSqlcipherKey(filename: string, passPhrase: string): Promise<void> {
  const sqlcipher = require('@journeyapps/sqlcipher')
  prepareSqlcipherFiles(filename)
  const db = await new Promise<any>((res, rej) => {
    const d = new sqlcipher.Database(resolve(filename), (err: Error | null) => (err ? rej(err) : res(d)))
  })
  // SQLCipher writes three "hmac check failed" lines of its own to stderr for a wrong key,
  // before the error below says the same in words; quiet it for this one check only.
  const { cipher_log_level: logLevel } = await get(db, 'PRAGMA cipher_log_level')
  try {
    await run(db, 'PRAGMA cipher_log_level = NONE')
    await run(db, `PRAGMA key = ${sqlString(passPhrase)}`)
    await get(db, 'SELECT count(*) AS n FROM sqlite_master')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'SQLITE_NOTADB')
      throw new Error(`cannot open ${filename}: ${(err as Error).message}`)
    throw new Error(
      `cannot open ${filename}: kronus.sqlite.passPhrase (or KRONUS_SQLITE_PASSPHRASE) is not the passphrase this database was created with, or the file is not a Kronus database`
    )
  } finally {
    if (typeof logLevel === 'string') await run(db, `PRAGMA cipher_log_level = ${logLevel}`).catch(() => undefined)
    await new Promise<void>((res) => db.close(() => res()))
  }
}
