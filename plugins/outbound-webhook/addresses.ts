import { isIP } from 'node:net'

/*
 * Which IP addresses a webhook may never reach (unless private networks are allowed):
 * anything that is not a public unicast address. An attacker who controls a webhook URL
 * must not be able to make Kronus call its own host, its LAN or a cloud metadata service.
 */

type Range = readonly [network: string, prefix: number]

const BLOCKED_V4: readonly Range[] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, and 169.254.169.254, the cloud metadata service
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4] // reserved, and the broadcast address
]

const BLOCKED_V6: readonly Range[] = [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local, fd00:ec2::254 (AWS metadata) included
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routed by some)
  ['ff00::', 8] // multicast
]

/** IPv6 prefixes that carry an IPv4 address in their last 32 bits: that address decides. */
const EMBEDDING_V4: readonly Range[] = [
  ['::ffff:0:0', 96], // IPv4-mapped
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96] // NAT64
]

function v4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
}

/** The 128-bit value of an IPv6 address (zone id dropped, dotted IPv4 tail allowed). */
function v6ToBigInt(address: string): bigint {
  let text = address.split('%')[0]!.toLowerCase()
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (dotted) {
    const v4 = v4ToBigInt(dotted[1]!)
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const headGroups = head ? head.split(':') : []
  const tailGroups = tail ? tail.split(':') : []
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group || '0', 16)), 0n)
}

function inRange(value: bigint, [network, prefix]: Range, bits: number, toBigInt: (a: string) => bigint): boolean {
  const shift = BigInt(bits - prefix)
  return value >> shift === toBigInt(network) >> shift
}

function isBlockedV4(address: string): boolean {
  const value = v4ToBigInt(address)
  return BLOCKED_V4.some((range) => inRange(value, range, 32, v4ToBigInt))
}

function embeddedV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
}

/**
 * Whether `address` (an IP literal) is one that webhooks may not reach by default. What is
 * not an IP address at all counts as blocked: the caller asked about something it must
 * not connect to blindly.
 */
export function isBlockedAddress(address: string): boolean {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address
  const family = isIP(bare.split('%')[0]!)
  if (family === 4) return isBlockedV4(bare)
  if (family !== 6) return true
  const value = v6ToBigInt(bare)
  // The all-zero address is unspecified, not an IPv4-compatible 0.0.0.0; the ranges say so.
  if (value !== 0n && value !== 1n) {
    const embedding = EMBEDDING_V4.find((range) => inRange(value, range, 128, v6ToBigInt))
    if (embedding) return isBlockedV4(embeddedV4(value & 0xffffffffn))
  }
  return BLOCKED_V6.some((range) => inRange(value, range, 128, v6ToBigInt))
}

/** A URL's host as an IP literal (without IPv6 brackets), or null when it is a name. */
export function ipLiteralOf(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  return isIP(bare) ? bare : null
}
