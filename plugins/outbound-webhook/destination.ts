import { ipLiteralOf, isBlockedAddress } from './addresses.js'

/**
 * Why a webhook URL is refused when it is saved, or null. Only what the URL itself shows
 * is judged here (an IP literal, localhost); names are checked on every connection.
 */
export function refusedDestination(url: string, allowPrivateNetworks: boolean): string | null {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return 'must be an http or https URL'
  }
  if (allowPrivateNetworks) return null
  const literal = ipLiteralOf(host)
  if ((literal !== null && isBlockedAddress(literal)) || host === 'localhost' || host.endsWith('.localhost')) {
    return 'must not point to a loopback, private, link-local or metadata address (allowPrivateNetworks is off)'
  }
  return null
}
