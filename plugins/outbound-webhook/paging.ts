import type { Knex } from 'knex'

/** Kronus's paging contract: 100 a page, numbered from 1, `pages` at least 1. */
export const PAGE_SIZE = 100

export interface Page<T> {
  results: T[]
  paging: { total: number; page: number; pages: number }
}

export async function pageOf<Row extends {}, T>(query: Knex.QueryBuilder<Row>, page: number, view: (row: Row) => T, orderBy: Array<{ column: string; order: 'asc' | 'desc' }>): Promise<Page<T>> {
  const [{ n }] = (await query.clone().clearSelect().clearOrder().count({ n: '*' })) as unknown as Array<{ n: number | string }>
  const rows = (await query.clone().orderBy(orderBy).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)) as unknown as Row[]
  const total = Number(n)
  return { results: rows.map(view), paging: { total, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) } }
}
