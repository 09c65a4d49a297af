import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import knexFactory, { type Knex } from 'knex'
import type Pg from 'pg'
import { ensurePrivateDirectory, ensurePrivateFile, tightenIfPresent } from '../util/private-files.js'
import { leanClient, positionBindings, postgresQueryCompiler, sqliteQueryCompiler } from './lean-statements.js'

const require = createRequire(import.meta.url)
// knex's SQLite client expects the `sqlite3` API; @journeyapps/sqlcipher is a drop-in for it.
const Client_SQLite3 = require('knex/lib/dialects/sqlite3/index.js')

const SQLiteQueryCompiler = sqliteQueryCompiler()

class ClientSQLCipher extends leanClient(Client_SQLite3) {
  _driver() {
    return require('@journeyapps/sqlcipher')
  }

  queryCompiler(builder: unknown, formatter: unknown) {
    return new SQLiteQueryCompiler(this, builder, formatter)
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

/** knex's pg client with its statements built by lean-statements.ts. Loaded, as node-pg, for PostgreSQL only. */
function postgresClient(): unknown {
  const Client_PG = require('knex/lib/dialects/postgres/index.js')
  const PostgresQueryCompiler = postgresQueryCompiler()
  return class ClientPostgres extends leanClient(Client_PG) {
    queryCompiler(builder: unknown, formatter: unknown) {
      return new PostgresQueryCompiler(this, builder, formatter)
    }

    positionBindings(sql: string) {
      return positionBindings(sql)
    }
  }
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
      client: postgresClient() as unknown as typeof Knex.Client,
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
