import type { ResultRow } from './result.js'

function number(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

export function formatValue(row: ResultRow): string {
  return `${number(row.value)} ${row.unit}`
}

export function formatRatio(row: ResultRow): string {
  return row.ratio === null ? '—' : `${number(row.ratio)}×`
}

const COLUMNS: Array<[string, (row: ResultRow) => string]> = [
  ['bench', (r) => r.bench],
  ['measured', (r) => r.subject],
  ['db', (r) => r.db],
  ['result', formatValue],
  ['limit', (r) => r.limitLabel],
  ['ratio', formatRatio],
  ['', (r) => (r.ratio === null ? '' : r.lowerIsBetter ? '(lower is better)' : '(higher is better)')],
  ['notes', (r) => r.detail ?? '']
]

/** Fixed-width text table for the terminal. */
export function textTable(rows: ResultRow[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, cell]) => cell(row)))
  const widths = COLUMNS.map(([title], i) => Math.max(title.length, ...cells.map((c) => c[i]!.length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(COLUMNS.map(([title]) => title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')
}

/** One row as the terminal shows it while the run goes on. */
export function textRow(row: ResultRow): string {
  return `${row.bench.padEnd(6)}  ${row.db.padEnd(9)}  ${row.subject}: ${formatValue(row)}  vs  ${row.limitLabel}  →  ${formatRatio(row)}${row.detail ? `  [${row.detail}]` : ''}`
}

/** The same table in Markdown, for docs/BENCHMARKS.md. */
export function markdownTable(rows: ResultRow[]): string {
  const header = ['bench', 'measured', 'db', 'result', 'limit', 'ratio', 'notes']
  const escapeCell = (s: string) => s.replace(/\|/g, '\\|')
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map(
      (r) =>
        `| ${[r.bench, r.subject, r.db, formatValue(r), r.limitLabel, formatRatio(r), r.detail ?? ''].map(escapeCell).join(' | ')} |`
    )
  ].join('\n')
}
