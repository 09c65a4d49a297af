import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { ipLiteralOf, isBlockedAddress } from './addresses.js'

/** Resolves a host name to its addresses; replaceable so tests can play DNS without a network. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true })

/** A delivery was not sent because its destination is not a public address. */
export class BlockedDestinationError extends Error {
  override name = 'BlockedDestinationError'
  readonly code = 'EBLOCKEDDESTINATION'
  constructor(host: string, address: string) {
    super(
      host === address
        ? `${address} is a loopback, private, link-local or metadata address; set allowPrivateNetworks to deliver there`
        : `${host} resolves to ${address}, a loopback, private, link-local or metadata address; set allowPrivateNetworks to deliver there`
    )
  }
}

/** Refuses an IP-literal URL host at once: sockets connect to literals without a lookup. */
export function assertLiteralAllowed(hostname: string, allowPrivateNetworks: boolean): void {
  const literal = ipLiteralOf(hostname)
  if (literal !== null && !allowPrivateNetworks && isBlockedAddress(literal))
    throw new BlockedDestinationError(literal, literal)
}

/**
 * A socket `lookup` that resolves through `resolve` and fails when any address is
 * blocked. Sockets call it at connect time, so the address checked is the address
 * connected to: a name that resolved to a public address when the endpoint was saved and
 * to 127.0.0.1 now (DNS rebinding) is refused.
 */
export function guardedLookup(resolve: Resolver, allowPrivateNetworks: boolean): LookupFunction {
  return (hostname, options: LookupOptions, callback) => {
    const done = callback as (
      err: NodeJS.ErrnoException | null,
      address?: string | LookupAddress[],
      family?: number
    ) => void
    resolve(hostname)
      .then((resolved) => {
        const blocked = allowPrivateNetworks ? undefined : resolved.find((a) => isBlockedAddress(a.address))
        if (blocked) throw new BlockedDestinationError(hostname, blocked.address)
        const wanted =
          options.family === 4 || options.family === 6 ? resolved.filter((a) => a.family === options.family) : resolved
        if (wanted.length === 0) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' })
        if (options.all) done(null, wanted)
        else done(null, wanted[0]!.address, wanted[0]!.family)
      })
      .catch((err: NodeJS.ErrnoException) => done(err))
  }
}
