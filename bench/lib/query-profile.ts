import { writeFileSync } from 'node:fs'
import type { Knex } from 'knex'

interface Shape {
  count: number
  ms: number
  /** Rows the statements returned (selected, or RETURNING): what the driver parsed into objects. */
  rows: number
}

/**
 * Time spent per statement shape (the SQL with its bound values left out), from knex's
 * query and query-response events. With one SQLite connection the totals add up to the
 * time the database was busy; `npm run bench -- --query-profile <file>` writes them.
 */
export class QueryProfile {
  readonly #started = new Map<string, { sql: string; at: bigint }>()
  readonly #shapes = new Map<string, Shape>()

  attach(knex: Knex): this {
    knex.on('query', (q: { __knexQueryUid: string; sql: string }) => {
      this.#started.set(q.__knexQueryUid, { sql: q.sql, at: process.hrtime.bigint() })
    })
    const end = (response: unknown, q: { __knexQueryUid: string }) => {
      const start = this.#started.get(q.__knexQueryUid)
      if (!start) return
      this.#started.delete(q.__knexQueryUid)
      // Multi-row inserts and id lists differ only in their length: one shape for all.
      const shape = start.sql
        .replace(/(\?|\$\d+)(\s*,\s*(\?|\$\d+))+/g, '?…')
        .replace(/(\(\?…\)|select \?… union all )+/g, '(…)')
      const entry = this.#shapes.get(shape) ?? { count: 0, ms: 0, rows: 0 }
      entry.count += 1
      entry.rows += returnedRows(response)
      entry.ms += Number(process.hrtime.bigint() - start.at) / 1e6
      this.#shapes.set(shape, entry)
    }
    knex.on('query-response', (response: unknown, q: { __knexQueryUid: string }) => end(response, q))
    knex.on('query-error', (_error: unknown, q: { __knexQueryUid: string }) => end(undefined, q))
    return this
  }

  write(file: string): void {
    const rows = [...this.#shapes].sort((a, b) => b[1].ms - a[1].ms)
    const total = rows.reduce((sum, [, s]) => sum + s.ms, 0)
    const lines = rows.map(
      ([sql, s]) =>
        `${s.ms.toFixed(0).padStart(8)} ms ${s.count.toString().padStart(8)}× ${s.rows.toString().padStart(9)} rows  ${sql.slice(0, 400)}`
    )
    writeFileSync(file, `${total.toFixed(0)} ms in all\n${lines.join('\n')}\n`)
  }
}

/** knex's response: an array of rows, or the driver's result with its rows (raw statements). */
function returnedRows(response: unknown): number {
  if (Array.isArray(response)) return response.length
  const rows = (response as { rows?: unknown } | null | undefined)?.rows
  return Array.isArray(rows) ? rows.length : 0
}
