import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/*
 * knex's clients and query compilers with statements built from fewer bytes: a fan-out of
 * 100k texts runs a few hundred thousand multi-row inserts and `whereIn` lists, and knex
 * built a string per value and an array per row for each (docs/BENCHMARKS.md, "fewer
 * bytes per text"). The SQL and bindings are the same as knex's, but for a multi-row
 * SQLite insert (see sqliteQueryCompiler).
 */

/** A knex client or query compiler (knex's are untyped). */
type Compiler = any
type CompilerClass = new (...args: any[]) => Compiler

/** A value bound as it is, with a `?` of its own: what knex's parameter() does with it. */
function isPlain(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function' && value !== undefined)
}

let questionMarks = '?'
/** `?, ?, …, ?` (n of them), a slice of one shared string: no string built per value. */
function placeholders(n: number): string {
  while (questionMarks.length < 3 * n - 2) questionMarks += `, ${questionMarks}`
  return questionMarks.slice(0, 3 * n - 2)
}

/**
 * A knex client whose parameterize() (the `?, ?, ?` of a `whereIn` list, a row's
 * values) binds a list of plain values at once and answers shared placeholders; any
 * other list (a raw value, a builder, an object, undefined) is knex's.
 */
export function leanClient<T extends CompilerClass>(Client: T): T {
  return class extends Client {
    parameterize(values: unknown, notSetValue: unknown, builder: unknown, bindingsHolder: { bindings: unknown[] }) {
      if (!Array.isArray(values) || values.length < 2 || !values.every(isPlain))
        return super.parameterize(values, notSetValue, builder, bindingsHolder)
      for (const value of values) bindingsHolder.bindings.push(value)
      return placeholders(values.length)
    }
  }
}

/**
 * The columns of a multi-row insert that multiRowValues writes: the rows' keys, sorted, as
 * knex's. Null when `rows` is not two or more rows with columns: then knex compiles it.
 */
function insertColumns(rows: unknown): string[] | null {
  if (!Array.isArray(rows) || rows.length < 2 || rows.some((row) => row == null || typeof row !== 'object')) return null
  const keys = new Set<string>()
  for (const row of rows as Array<Record<string, unknown>>)
    for (const key in row) if (Object.hasOwn(row, key)) keys.add(key)
  return keys.size === 0 ? null : [...keys].sort()
}

/**
 * The body of a multi-row insert, `(a, b) values (?, ?), (?, ?)`, written with few bytes:
 * one placeholder tuple shared by every row whose values are plain (a raw value, a
 * builder, a function or an object goes through knex's parameterize, as knex would
 * compile it), values read from the rows as they are rather than copied into an array
 * per row first. A key a row lacks is knex's value for undefined (NULL on SQLCipher,
 * DEFAULT on PostgreSQL), as knex's. knex's own built a string per cell and an array per
 * row: a 400-row insert of jobs allocated about 2.4 KB a row on SQLCipher, this about
 * 0.5 KB (docs/BENCHMARKS.md, "fewer bytes per text").
 */
function multiRowValues(compiler: Compiler, rows: Array<Record<string, unknown>>, columns: string[]): string {
  const { client, builder, bindingsHolder } = compiler
  const notSet = client.valueForUndefined
  const bindings: unknown[] = bindingsHolder.bindings
  const plain = `(${placeholders(columns.length)})`
  const tuples: string[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!
    let cells: string[] | null = null
    for (let j = 0; j < columns.length; j++) {
      const value = row[columns[j]!]
      // A key the row lacks: NULL on SQLCipher (bound as a plain value), DEFAULT on PostgreSQL (knex's raw).
      if (isPlain(value) || (value === undefined && notSet === null)) {
        bindings.push(value ?? null)
        cells?.push('?')
      } else {
        cells ??= columns.slice(0, j).map(() => '?')
        cells.push(client.parameterize([value], notSet, builder, bindingsHolder))
      }
    }
    tuples[i] = cells ? `(${cells.join(', ')})` : plain
  }
  return `(${compiler.formatter.columnize(columns)}) values ${tuples.join(', ')}`
}

/**
 * knex's PostgreSQL compiler, its multi-row inserts' body written by multiRowValues.
 * Everything else (ON CONFLICT, RETURNING, single rows) is knex's.
 */
export function postgresQueryCompiler(): CompilerClass {
  const QueryCompiler_PG: CompilerClass = require('knex/lib/dialects/postgres/query/pg-querycompiler.js')
  return class PostgresQueryCompiler extends QueryCompiler_PG {
    _insertBody(rows: unknown) {
      const columns = insertColumns(rows)
      return columns ? multiRowValues(this, rows as Array<Record<string, unknown>>, columns) : super._insertBody(rows)
    }
  }
}

/**
 * knex's SQLite compiler, its multi-row inserts written as on PostgreSQL:
 * `insert into t (a, b) values (?, ?), (?, ?)`, by multiRowValues, not as knex's
 * `insert into t (a, b) select ? as "a", ? as "b" union all select ? as "a", …`, which
 * built and quoted an alias for every cell (about a third of the bytes a fan-out
 * allocated). SQLite has taken multi-row VALUES since 3.7.11; the rows go in in the order
 * listed, as before, and VALUES needs no `where true` before an ON CONFLICT clause.
 * Single rows, raw and empty inserts are knex's own.
 */
export function sqliteQueryCompiler(): CompilerClass {
  const QueryCompiler_SQLite3: CompilerClass = require('knex/lib/dialects/sqlite3/query/sqlite-querycompiler.js')
  return class SQLiteQueryCompiler extends QueryCompiler_SQLite3 {
    insert() {
      const rows = this.single.insert
      const columns = insertColumns(rows)
      if (!columns) return super.insert()
      // The WITH clause and the table first, as knex does: either may have bindings of its own.
      let sql = `${this.with()}insert into ${this.tableName} `
      sql += multiRowValues(this, rows, columns)
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
}
