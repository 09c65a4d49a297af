/** One line of the results table: a measurement beside the limit it is judged against. */
export interface ResultRow {
  bench: 'fanout' | 'queue' | 'api' | 'idle' | 'alarm' | 'rss'
  /** What was measured, e.g. "100k users" or "kronus enqueue+complete". */
  subject: string
  db: string
  value: number
  unit: string
  /** The limit: a target, or the same work done by the simplest thing that could do it; null when there is none. */
  limit: number | null
  limitLabel: string
  /** value / limit, or null without a limit. */
  ratio: number | null
  /** Whether a lower value is better (times, bytes), for reading the ratio. */
  lowerIsBetter: boolean
  detail?: string
}

export function row(fields: Omit<ResultRow, 'ratio'>): ResultRow {
  return { ...fields, ratio: fields.limit === null || fields.limit === 0 ? null : fields.value / fields.limit }
}

/** Messages a case process sends to the runner. */
export type CaseMessage =
  | { type: 'result'; result: unknown }
  | { type: 'ready'; url: string; headers: Record<string, string> }

/** Messages the runner sends to a case process. */
export type RunnerMessage = { type: 'finish' }

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024).toFixed(1)} KiB`
}
