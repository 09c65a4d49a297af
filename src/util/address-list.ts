import { BlockList, isIP } from 'node:net'

/** '::ffff:10.0.0.1' is how a dual-stack listener reports an IPv4 peer; compare it as 10.0.0.1. */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim()
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed)
  return mapped ? mapped[1]! : trimmed.toLowerCase()
}

/** Whether `entry` is an IP address or a CIDR such as "10.0.0.0/8" or "fd00::/8". */
export function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.trim().split('/')
  const family = isIP(address ?? '')
  if (family === 0 || rest.length > 0) return false
  if (prefix === undefined) return true
  if (!/^\d{1,3}$/.test(prefix)) return false
  return Number(prefix) <= (family === 4 ? 32 : 128)
}

/** A set of addresses and CIDRs (entries already checked with isAddressOrCidr). */
export function addressList(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const entry of entries) {
    const [address, prefix] = entry.trim().split('/') as [string, string | undefined]
    const normalized = normalizeAddress(address)
    const type = isIP(normalized) === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(normalized, type)
    else list.addSubnet(normalized, Number(prefix), type)
  }
  return (address) => {
    const normalized = normalizeAddress(address)
    const family = isIP(normalized)
    return family !== 0 && list.check(normalized, family === 6 ? 'ipv6' : 'ipv4')
  }
}

/**
 * The address of the client behind trusted proxies. X-Forwarded-For lists the hops the
 * request went through, each proxy appending the address it received it from; reading it
 * from the right and stopping at the first address that is not a trusted proxy gives the
 * client, and a client cannot choose it by sending an X-Forwarded-For of its own (those
 * entries stand to the left of what the first trusted proxy appended).
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  isTrustedProxy: (address: string) => boolean
): string {
  let client = normalizeAddress(peer)
  if (!forwardedFor) return client
  const hops = forwardedFor
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '')
  while (isTrustedProxy(client) && hops.length > 0) {
    const hop = normalizeAddress(hops.pop()!)
    if (isIP(hop) === 0) break
    client = hop
  }
  return client
}
