import type { LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import type { Resolver } from '../../../plugins/outbound-webhook/ssrf-guard.js'

/** DNS played offline: names map to addresses, and every question is recorded. */
export function fakeDns(records: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = []
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname)
    const addresses = records[hostname]
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: isIP(address) }))
  }
  return Object.assign(resolve, { asked })
}
