import Joi from 'joi'
import type { Page } from '../domain/paging.js'

/**
 * Models become the JSON they are sent as (hidden columns gone, RFC 3339 timestamps) before
 * they leave the handler, so the response schemas check exactly what the client receives.
 */
function toWire<T>(value: T): T {
  if (Array.isArray(value)) return value.map(toWire) as T
  if (value === null || typeof value !== 'object') return value
  const toJSON = (value as { toJSON?: () => unknown }).toJSON
  if (typeof toJSON === 'function') return toJSON.call(value) as T
  if (Object.getPrototypeOf(value) !== Object.prototype) return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toWire(inner)])) as T
}

/** The first Kronus's response envelope: `{ success, data }`, plus `paging` on lists and `errors` on failure. */
export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data: toWire(data) }
}

export function paged<T>(page: Page<T>): { success: true; data: T[]; paging: Page<T>['paging'] } {
  return { success: true, data: toWire(page.results), paging: page.paging }
}

export function failure(errors: string[]): { success: false; errors: string[] } {
  return { success: false, errors }
}

/** Schemas for documenting responses (hapi-swagger reads them). */
export const envelopeSchema = (data: Joi.Schema, label: string) =>
  Joi.object({ success: Joi.boolean().valid(true).required(), data }).label(label)

export const pagedSchema = (item: Joi.Schema, label: string) =>
  Joi.object({
    success: Joi.boolean().valid(true).required(),
    data: Joi.array().items(item),
    paging: Joi.object({
      total: Joi.number().integer(),
      page: Joi.number().integer(),
      pages: Joi.number().integer()
    }).label('Paging')
  }).label(label)

export const errorSchema = Joi.object({
  success: Joi.boolean().valid(false),
  errors: Joi.array().items(Joi.string())
}).label('Error')

export const pageQuery = Joi.object({
  page: Joi.number().integer().min(1).max(1_000_000).default(1).description('Page number, from 1; pages hold 100 items')
})
