/*
 * Phone number ranges that cannot be an emergency contact, known from the number's
 * format alone: premium-rate numbers (a text or call to them costs money, so listing one
 * would run up a bill) and numbers that are no mobile phone (a landline, toll-free or
 * personal-redirect number cannot reliably receive an alert text).
 *
 * PARTIAL by design: a small table of well-known ranges, not a numbering plan. Kronus has
 * no libphonenumber; a range not listed here is accepted. Sources: the NANPA lists of
 * N11/toll-free/900 codes and the 976 exchange (nationalnanpa.com), Ofcom's UK National
 * Telephone Numbering Plan (01/02 geographic, 070 personal, 084/087 service, 09 premium),
 * ARCEP's French plan (08 special and premium rate), the Bundesnetzagentur's 0900 range
 * (Germany), ACMA's 19xx premium range (Australia), and ITU-T E.164 shared codes
 * (+881 global mobile satellite, +882/+883 international networks, +979 international
 * premium rate).
 */

export interface PhoneRangeRule {
  /** Matched against the digits after the `+`. */
  pattern: RegExp
  /** Why such a number is refused, as the API says it. */
  reason: string
  /** A number of the range, for the tests and the reader. */
  example: string
}

const PREMIUM = 'is a premium-rate number: texts to it cost money'
const NOT_MOBILE = (kind: string) => `is a ${kind} number, not a mobile phone: it cannot reliably receive texts`

export const REFUSED_PHONE_RANGES: readonly PhoneRangeRule[] = [
  // North America (+1): NPA 900 and exchange 976 in any area are premium; these NPAs are toll-free.
  { pattern: /^1900/, reason: PREMIUM, example: '+19005550100' },
  { pattern: /^1[2-9]\d\d976/, reason: PREMIUM, example: '+12129765555' },
  { pattern: /^18(00|33|44|55|66|77|88)/, reason: NOT_MOBILE('toll-free'), example: '+18005550100' },
  // United Kingdom (+44): 09 premium, 070 personal, 084/087 service numbers, 01/02 landlines.
  { pattern: /^449/, reason: PREMIUM, example: '+449098790000' },
  { pattern: /^4470/, reason: NOT_MOBILE('personal (forwarding)'), example: '+447011234567' },
  { pattern: /^448[47]/, reason: NOT_MOBILE('special-rate service'), example: '+448712345678' },
  { pattern: /^44[12]/, reason: NOT_MOBILE('landline'), example: '+442071234567' },
  // France (+33): 08 numbers are special or premium rate.
  { pattern: /^338/, reason: PREMIUM, example: '+33899123456' },
  // Germany (+49): 0900 is premium.
  { pattern: /^49900/, reason: PREMIUM, example: '+499001234567' },
  // Australia (+61): 19xx is premium.
  { pattern: /^6119/, reason: PREMIUM, example: '+61190012345' },
  // Shared international codes: satellite and international networks, and international premium rate.
  { pattern: /^881/, reason: NOT_MOBILE('satellite'), example: '+8816123456789' },
  { pattern: /^88[23]/, reason: NOT_MOBILE('international network'), example: '+88234123456' },
  { pattern: /^979/, reason: PREMIUM, example: '+979123456789' }
]

/** Why an E.164 number cannot be an emergency contact from its format alone, or null when nothing is known against it. */
export function refusedPhoneRange(e164: string): string | null {
  const digits = e164.replace(/^\+/, '')
  return REFUSED_PHONE_RANGES.find((rule) => rule.pattern.test(digits))?.reason ?? null
}
