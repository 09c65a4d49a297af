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

/**
 * What login limits count by: an IPv4 address, or the /64 network of an IPv6 address. One
 * subscriber usually gets a whole /64 and may draw new addresses from it at will, so
 * counting single IPv6 addresses would give an attacker endless fresh budgets.
 */
export function addressGroup(address: string): string {
  const normalized = normalizeAddress(address)
  if (isIP(normalized) !== 6) return normalized
  return `${expandIPv6(normalized).slice(0, 4).join(':')}::/64`
}

/** The eight hextets of an IPv6 address (checked with isIP), without leading zeros. */
function expandIPv6(address: string): string[] {
  let text = address.split('%')[0]!
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number]
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...zeros, ...right].map((hextet) => Number.parseInt(hextet, 16).toString(16))
}
