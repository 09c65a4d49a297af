import { BlockList, isIP } from 'node:net'

/*
 * Which IP addresses a webhook may never reach (unless private networks are allowed):
 * every range of IANA's IPv4 and IPv6 special-purpose address registries, plus multicast
 * and the deprecated forms some stacks still route. An attacker who controls a webhook URL
 * must not be able to make Kronus call its own host, its LAN or a cloud metadata service,
 * directly or through an IPv6 prefix that embeds or translates an IPv4 address (6to4,
 * Teredo, NAT64, SIIT, IPv4-mapped): those prefixes are refused whole, whatever they carry.
 */

export interface SpecialRange {
  readonly network: string
  readonly prefix: number
  readonly family: 'ipv4' | 'ipv6'
  readonly name: string
}

const v4 = (network: string, prefix: number, name: string): SpecialRange => ({ network, prefix, family: 'ipv4', name })
const v6 = (network: string, prefix: number, name: string): SpecialRange => ({ network, prefix, family: 'ipv6', name })

/** The one list the guard is built from; docs/WEBHOOKS.md shows it as a table. */
export const REFUSED_RANGES: readonly SpecialRange[] = [
  v4('0.0.0.0', 8, '"this network", 0.0.0.0 included'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'shared address space (carrier-grade NAT)'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local, 169.254.169.254 (cloud metadata) included'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'IETF protocol assignments, DS-Lite and NAT64 discovery included'),
  v4('192.0.2.0', 24, 'documentation (TEST-NET-1)'),
  v4('192.31.196.0', 24, 'AS112-v4'),
  v4('192.52.193.0', 24, 'AMT'),
  v4('192.88.99.0', 24, 'deprecated 6to4 relay anycast'),
  v4('192.168.0.0', 16, 'private'),
  v4('192.175.48.0', 24, 'direct delegation AS112 service'),
  v4('198.18.0.0', 15, 'benchmarking'),
  v4('198.51.100.0', 24, 'documentation (TEST-NET-2)'),
  v4('203.0.113.0', 24, 'documentation (TEST-NET-3)'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved, 255.255.255.255 (limited broadcast) included'),
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('::', 96, 'IPv4-compatible (deprecated)'),
  v6('::ffff:0:0', 96, 'IPv4-mapped'),
  v6('::ffff:0:0:0', 96, 'IPv4-translated (SIIT)'),
  v6('64:ff9b::', 96, 'NAT64 well-known prefix'),
  v6('64:ff9b:1::', 48, 'NAT64 local-use prefix'),
  v6('100::', 64, 'discard-only'),
  v6('100:0:0:1::', 64, 'dummy prefix'),
  v6('2001::', 23, 'IETF protocol assignments, Teredo 2001::/32 and ORCHID included'),
  v6('2001:db8::', 32, 'documentation'),
  v6('2002::', 16, '6to4'),
  v6('2620:4f:8000::', 48, 'direct delegation AS112 service'),
  v6('3fff::', 20, 'documentation'),
  v6('5f00::', 16, 'segment routing SIDs'),
  v6('fc00::', 7, 'unique local, fd00:ec2::254 (AWS metadata) included'),
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'site-local (deprecated, still routed by some)'),
  v6('ff00::', 8, 'multicast')
]

/*
 * One BlockList per family: node matches an IPv6 rule such as ::ffff:0:0/96 against plain
 * IPv4 addresses too, which would refuse every IPv4 address.
 */
function blockListOf(family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList()
  for (const range of REFUSED_RANGES) if (range.family === family) list.addSubnet(range.network, range.prefix, family)
  return list
}

const REFUSED_V4 = blockListOf('ipv4')
const REFUSED_V6 = blockListOf('ipv6')

/**
 * Whether `address` (an IP literal) is one that webhooks may not reach by default. What is
 * not an IP address at all counts as blocked: the caller asked about something it must
 * not connect to blindly.
 */
export function isBlockedAddress(address: string): boolean {
  const bracketless = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  // A zone id (fe80::1%eth0) names an interface, not part of the address; BlockList rejects it.
  const bare = bracketless.split('%')[0]!
  const family = isIP(bare)
  if (family === 4) return REFUSED_V4.check(bare, 'ipv4')
  if (family === 6) return REFUSED_V6.check(bare, 'ipv6')
  return true
}

/** A URL's host as an IP literal (without IPv6 brackets), or null when it is a name. */
export function ipLiteralOf(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) ? bare : null
}
