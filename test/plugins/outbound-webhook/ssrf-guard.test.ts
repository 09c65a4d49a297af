import type { LookupAddress } from 'node:dns'
import t from 'tap'
import {
  assertLiteralAllowed,
  BlockedDestinationError,
  guardedLookup
} from '../../../plugins/outbound-webhook/ssrf-guard.js'
import { fakeDns } from './fake-dns.js'

function lookup(fn: ReturnType<typeof guardedLookup>, hostname: string, options: { all?: boolean; family?: number }) {
  return new Promise<{ address: string | LookupAddress[]; family?: number }>((resolve, reject) => {
    fn(
      hostname,
      options as never,
      (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
        if (err) reject(err)
        else resolve({ address, family })
      }
    )
  })
}

const dns = fakeDns({
  'public.test': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  'internal.test': ['10.0.0.5'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'mapped.test': ['::ffff:169.254.169.254']
})

t.test('a name that resolves to a blocked address is refused, naming both', async (t) => {
  const guarded = guardedLookup(dns, false)
  await t.rejects(lookup(guarded, 'internal.test', {}), {
    name: 'BlockedDestinationError',
    message: /internal\.test resolves to 10\.0\.0\.5/
  })
  await t.rejects(
    lookup(guarded, 'mixed.test', { all: true }),
    BlockedDestinationError,
    'one blocked address among public ones is enough'
  )
  await t.rejects(lookup(guarded, 'mapped.test', {}), BlockedDestinationError)
})

t.test('public names resolve, in the shape the socket asked for', async (t) => {
  const guarded = guardedLookup(dns, false)
  t.same(await lookup(guarded, 'public.test', {}), { address: '93.184.216.34', family: 4 })
  t.same(await lookup(guarded, 'public.test', { family: 6 }), {
    address: '2606:2800:220:1:248:1893:25c8:1946',
    family: 6
  })
  const all = await lookup(guarded, 'public.test', { all: true })
  t.same(all.address, [
    { address: '93.184.216.34', family: 4 },
    { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 }
  ])
  await t.rejects(lookup(guarded, 'nowhere.test', {}), { code: 'ENOTFOUND' })
})

t.test('allowPrivateNetworks lets private names through', async (t) => {
  t.same(await lookup(guardedLookup(dns, true), 'internal.test', {}), { address: '10.0.0.5', family: 4 })
})

t.test('IP-literal hosts are judged without DNS', async (t) => {
  t.throws(() => assertLiteralAllowed('127.0.0.1', false), BlockedDestinationError)
  t.throws(() => assertLiteralAllowed('[::ffff:7f00:1]', false), BlockedDestinationError)
  t.doesNotThrow(() => assertLiteralAllowed('127.0.0.1', true))
  t.doesNotThrow(() => assertLiteralAllowed('8.8.8.8', false))
  t.doesNotThrow(() => assertLiteralAllowed('example.com', false), 'names are left to the lookup')
})
