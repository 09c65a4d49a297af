import { PAGE_SIZE } from './constants.js'

/** The paging block of a list response: `pages` is at least 1, so an empty list is page 1 of 1. */
export interface Paging {
  total: number
  page: number
  pages: number
}

export interface Page<T> {
  results: T[]
  paging: Paging
}

/** How many pages `total` items fill; the one place the page-count rule is written. */
export function pageCount(total: number, pageSize: number = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize))
}

/** The paging block of page `page` (numbered from 1) of `total` items. */
export function pagingOf(total: number, page: number, pageSize: number = PAGE_SIZE): Paging {
  return { total, page, pages: pageCount(total, pageSize) }
}
