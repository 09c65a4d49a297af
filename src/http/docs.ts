import { errorSchema } from './envelope.js'

/* The error answers a route can give, for its OpenAPI entry; every one comes in the failure envelope. */

const MEANINGS: Record<number, string> = {
  400: 'Invalid input: malformed JSON, or a field that breaks its rule (the message names the field)',
  401: 'No token, or one that is forged, expired or belongs to a deleted user',
  403: 'Not allowed for this caller',
  404: 'No such record',
  409: 'Conflicts with existing data',
  413: 'Body larger than 64 KiB',
  429: 'Too many failed logins; the Retry-After header says how many seconds to wait',
  503: 'The database does not answer'
}

/**
 * `options.plugins` entry documenting a route's error codes. `details` replaces the
 * generic meaning where the route has something specific to say (what a 409 collides with).
 */
export function errorDocs(
  codes: number[],
  details: Record<number, string> = {}
): { 'hapi-swagger': { responses: Record<number, { description: string; schema: typeof errorSchema }> } } {
  const responses: Record<number, { description: string; schema: typeof errorSchema }> = {}
  for (const code of codes) {
    const description = details[code] ?? MEANINGS[code]
    if (!description) throw new Error(`no documented meaning for HTTP ${code}`)
    responses[code] = { description, schema: errorSchema }
  }
  return { 'hapi-swagger': { responses } }
}
