import Joi from 'joi'
import type { Page } from '../db/paging.js'

/** The first Kronus's response envelope: `{ success, data }`, plus `paging` on lists and `errors` on failure. */
export function ok<T>(data: T): { success: true; data: T } {
  return { success: true, data }
}

export function paged<T>(page: Page<T>): { success: true; data: T[]; paging: Page<T>['paging'] } {
  return { success: true, data: page.results, paging: page.paging }
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
    paging: Joi.object({ total: Joi.number().integer(), page: Joi.number().integer(), pages: Joi.number().integer() }).label('Paging')
  }).label(label)

export const errorSchema = Joi.object({ success: Joi.boolean().valid(false), errors: Joi.array().items(Joi.string()) }).label('Error')

export const pageQuery = Joi.object({
  page: Joi.number().integer().min(1).max(1_000_000).default(1).description('Page number, from 1; pages hold 100 items')
})
