import { twilioSdk } from './twilio-sdk.js'

const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * The URL Twilio signs is the one configured on the Messaging Service, which is
 * publicUrl + path. Operators write publicUrl in several ways ("x.example",
 * "https://x.example/", a sub-path behind a proxy), so normalise before signing: Twilio
 * only calls https webhooks in production, hence https when the scheme is missing.
 * `path` may carry a query string; Twilio signs it too.
 */
export function twilioWebhookUrl(publicUrl: string, path: string): string {
  const trimmed = publicUrl.trim()
  const withScheme = HAS_SCHEME.test(trimmed) ? trimmed : `https://${trimmed}`
  const base = withScheme.replace(/\/+$/, '')
  const suffix = path.startsWith('/') ? path : `/${path}`
  return base + suffix
}

export interface TwilioSignatureCheck {
  authToken: string
  publicUrl: string
  path: string
  /** The decoded form fields of the POST, exactly as received. */
  params: Record<string, string | string[]>
  /** The X-Twilio-Signature header; missing means invalid. */
  signature: string | undefined | null
}

export function isValidTwilioSignature(check: TwilioSignatureCheck): boolean {
  if (!check.signature || !check.authToken) return false
  try {
    return twilioSdk().validateRequest(
      check.authToken,
      check.signature,
      twilioWebhookUrl(check.publicUrl, check.path),
      check.params
    )
  } catch {
    // validateRequest parses the URL; a publicUrl that is not a URL cannot match anything.
    return false
  }
}
