import type { QueryBuilder, Model } from 'objection'
import { PAGE_SIZE } from '../domain/constants.js'

export interface Paging {
  total: number
  page: number
  pages: number
}

export interface Page<T> {
  results: T[]
  paging: Paging
}

/** Pages of 100, numbered from 1; `pages` is at least 1 so an empty list is page 1 of 1. */
export async function paginate<M extends Model>(query: QueryBuilder<M, M[]>, page: number): Promise<Page<M>> {
  const { results, total } = await query.page(page - 1, PAGE_SIZE)
  return { results, paging: { total, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) } }
}
