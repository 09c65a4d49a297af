/**
 * Rows per multi-row insert, and ids per `whereIn`: far under either database's limit on
 * bound values (a 400-row insert of the widest table, jobs, binds 6400). Kept small so
 * no one statement's SQL text and bindings grow large.
 */
export const ROWS_PER_STATEMENT = 400

/** `items` in slices of at most `size`, for statements that take many rows or ids at once. */
export function chunks<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = []
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size))
  return out
}
