import Boom from '@hapi/boom'
import type { Request } from '@hapi/hapi'
import { containsControlCharacter, type PluginContext } from 'kronus'
import { isValidTwilioSignature } from './signature.js'

export type FormFields = Record<string, string | string[]>

/**
 * The form of a POST from Twilio to one of Kronus's webhooks, once its X-Twilio-Signature
 * is checked against publicUrl + the path (with its query string): anything unsigned, or
 * signed for another URL or token, is a 401 before a single field is read.
 */
export function signedTwilioForm(
  kronus: PluginContext,
  request: Request,
  authToken: string | undefined,
  path: string
): FormFields {
  const form = (request.payload ?? {}) as FormFields
  const signature = request.headers['x-twilio-signature']
  const valid = isValidTwilioSignature({
    authToken: authToken ?? '',
    publicUrl: kronus.config.kronus.publicUrl,
    path: path + request.url.search,
    params: form,
    signature: typeof signature === 'string' ? signature : undefined
  })
  if (!valid) {
    kronus.logger.warn({ path: request.path }, 'refused a Twilio webhook without a valid X-Twilio-Signature')
    throw Boom.unauthorized('invalid or missing X-Twilio-Signature')
  }
  return form
}

export function formField(form: FormFields, name: string, { allowEmpty }: { allowEmpty: boolean }): string {
  const value = form[name]
  if (typeof value !== 'string' || (!allowEmpty && value.trim() === '')) {
    throw Boom.badRequest(`${name} is required and must be a single text field`)
  }
  return value
}

/** An identifying field (a sender, a message or call id): control characters in it are a bad request. */
export function formIdentifier(form: FormFields, name: string): string {
  const value = formField(form, name, { allowEmpty: false })
  if (containsControlCharacter(value)) throw Boom.badRequest(`${name} must not contain control characters`)
  return value
}

/** An optional identifying field: absent is null; present, it is checked as formIdentifier. */
export function optionalIdentifier(form: FormFields, name: string): string | null {
  return form[name] === undefined ? null : formIdentifier(form, name)
}
