/**
 * Names the column of a unique-constraint violation from SQLite or PostgreSQL, or null
 * when the error is something else. Lets services turn a race lost at the database
 * into a 409 instead of a 500.
 */
export function uniqueViolationColumn(err: unknown): string | null {
  // objection wraps driver errors; node-pg's code and detail are on the wrapped one.
  const wrapped = (err as { nativeError?: unknown } | null)?.nativeError
  const e = (wrapped ?? err) as { code?: string; message?: string; detail?: string; constraint?: string }
  if (e?.code === '23505') {
    const m = /Key \(([^)]+)\)=/.exec(e.detail ?? '')
    return m ? m[1]!.split(',').pop()!.trim() : (e.constraint ?? 'unknown')
  }
  if (typeof e?.message === 'string' && e.message.includes('UNIQUE constraint failed')) {
    const m = /UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/.exec(e.message)
    if (!m) return 'unknown'
    return m[1]!.split(', ').pop()!.split('.').pop()!
  }
  return null
}
