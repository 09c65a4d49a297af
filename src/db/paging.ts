import type { Knex } from 'knex'
import type { Model, QueryBuilder } from 'objection'
import { PAGE_SIZE } from '../domain/constants.js'
import { type Page, pagingOf } from '../domain/paging.js'

export type { Page, Paging } from '../domain/paging.js'

/** Pages of 100, numbered from 1; `pages` is at least 1 so an empty list is page 1 of 1. */
export async function paginate<M extends Model>(query: QueryBuilder<M, M[]>, page: number): Promise<Page<M>> {
  const { results, total } = await query.page(page - 1, PAGE_SIZE)
  return { results, paging: pagingOf(total, page) }
}

/**
 * The same paging over a plain knex query (plugins page their own tables with it): counts
 * the rows, then reads page `page` in `orderBy` order and shows each row through `view`.
 */
export async function pageOfRows<Row extends {}, T>(
  query: Knex.QueryBuilder<Row>,
  page: number,
  view: (row: Row) => T,
  orderBy: Array<{ column: string; order: 'asc' | 'desc' }>
): Promise<Page<T>> {
  const [{ n }] = (await query.clone().clearSelect().clearOrder().count({ n: '*' })) as unknown as Array<{
    n: number | string
  }>
  const rows = (await query
    .clone()
    .orderBy(orderBy)
    .offset((page - 1) * PAGE_SIZE)
    .limit(PAGE_SIZE)) as unknown as Row[]
  return { results: rows.map(view), paging: pagingOf(Number(n), page) }
}
