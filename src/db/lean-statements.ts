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

const dollars: string[] = []
/** Statements recently positioned, by their SQL: a fan-out runs the same few shapes over and over. */
const positioned = new Map<string, string>()
const POSITIONED_KEPT = 32
const POSITIONED_MAX_LENGTH = 64 * 1024

/**
 * knex's PostgreSQL positionBindings(): each `?` becomes `$1`, `$2`, … in order, and a `?`
 * after an odd number of backslashes stays a `?`; the backslashes before a `?` are dropped
 * either way, as knex's `/(\\*)(\?)/g` drops them. knex's replace() called back once per
 * binding, building its match, its arguments and the `$n` anew: about 14 KB per text of
 * a PostgreSQL fan-out, the most of any one site. Here the answers for the last 32
 * statements of up to 64 K characters are kept (a few MiB of text at most): a 400-row insert
 * or a 400-id list has the same SQL every time, its values being bound. Others are
 * written without a regular expression, with the `$n` made once.
 */
export function positionBindings(sql: string): string {
  const known = positioned.get(sql)
  if (known !== undefined) return known
  const answer = numberBindings(sql)
  if (sql.length <= POSITIONED_MAX_LENGTH && answer !== sql) {
    if (positioned.size >= POSITIONED_KEPT) positioned.delete(positioned.keys().next().value!)
    positioned.set(sql, answer)
  }
  return answer
}

function numberBindings(sql: string): string {
  let q = sql.indexOf('?')
  if (q === -1) return sql
  const parts: string[] = []
  let from = 0
  let n = 0
  for (; q !== -1; q = sql.indexOf('?', q + 1)) {
    let start = q
    while (start > from && sql.charCodeAt(start - 1) === 92) start--
    if (start > from) parts.push(sql.slice(from, start))
    if ((q - start) % 2 === 1) parts.push('?')
    else {
      n += 1
      parts.push((dollars[n] ??= `$${n}`))
    }
    from = q + 1
  }
  if (from < sql.length) parts.push(sql.slice(from))
  return parts.join('')
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
