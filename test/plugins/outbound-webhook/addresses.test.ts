import t from 'tap'
import { ipLiteralOf, isBlockedAddress, REFUSED_RANGES } from '../../../plugins/outbound-webhook/addresses.js'

/*
 * Per refused range: addresses inside it (its first and last address among them) and, where
 * the range has a public neighbour, the addresses just outside it. Written out by hand, not
 * derived from REFUSED_RANGES, so a wrong entry in the list fails here.
 */
const RANGES: Record<string, { inside: string[]; outside: string[] }> = {
  '0.0.0.0/8': { inside: ['0.0.0.0', '0.1.2.3', '0.255.255.255'], outside: ['1.0.0.0'] },
  '10.0.0.0/8': { inside: ['10.0.0.0', '10.0.0.1', '10.255.255.255'], outside: ['9.255.255.255', '11.0.0.0'] },
  '100.64.0.0/10': {
    inside: ['100.64.0.0', '100.64.0.1', '100.127.255.255'],
    outside: ['100.63.255.255', '100.128.0.0']
  },
  '127.0.0.0/8': { inside: ['127.0.0.1', '127.255.255.254'], outside: ['126.255.255.255', '128.0.0.0'] },
  '169.254.0.0/16': { inside: ['169.254.0.1', '169.254.169.254'], outside: ['169.253.255.255', '169.255.0.0'] },
  '172.16.0.0/12': { inside: ['172.16.0.1', '172.31.255.255'], outside: ['172.15.255.255', '172.32.0.0'] },
  '192.0.0.0/24': { inside: ['192.0.0.0', '192.0.0.8', '192.0.0.170', '192.0.0.255'], outside: ['192.0.1.0'] },
  '192.0.2.0/24': { inside: ['192.0.2.0', '192.0.2.255'], outside: ['192.0.3.0'] },
  '192.31.196.0/24': { inside: ['192.31.196.1'], outside: ['192.31.195.255', '192.31.197.0'] },
  '192.52.193.0/24': { inside: ['192.52.193.1'], outside: ['192.52.192.255', '192.52.194.0'] },
  '192.88.99.0/24': { inside: ['192.88.99.1'], outside: ['192.88.98.255', '192.88.100.0'] },
  '192.168.0.0/16': { inside: ['192.168.0.1', '192.168.255.255'], outside: ['192.167.255.255', '192.169.0.0'] },
  '192.175.48.0/24': { inside: ['192.175.48.1'], outside: ['192.175.47.255', '192.175.49.0'] },
  '198.18.0.0/15': { inside: ['198.18.0.0', '198.19.255.255'], outside: ['198.17.255.255', '198.20.0.0'] },
  '198.51.100.0/24': { inside: ['198.51.100.7'], outside: ['198.51.99.255', '198.51.101.0'] },
  '203.0.113.0/24': { inside: ['203.0.113.7'], outside: ['203.0.112.255', '203.0.114.0'] },
  '224.0.0.0/4': { inside: ['224.0.0.1', '239.255.255.255'], outside: ['223.255.255.255'] },
  '240.0.0.0/4': { inside: ['240.0.0.0', '255.255.255.255'], outside: [] },
  '::/128': { inside: ['::', '0:0:0:0:0:0:0:0'], outside: [] },
  '::1/128': { inside: ['::1', '[::1]'], outside: [] },
  '::/96': { inside: ['::127.0.0.1', '::808:808'], outside: [] },
  '::ffff:0:0/96': {
    inside: [
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '0:0:0:0:0:ffff:7f00:0001',
      '::ffff:169.254.169.254',
      '::ffff:8.8.8.8'
    ],
    outside: []
  },
  '::ffff:0:0:0/96': { inside: ['::ffff:0:7f00:1', '::ffff:0:808:808', '::ffff:0:10.0.0.1'], outside: [] },
  '64:ff9b::/96': {
    inside: ['64:ff9b::a9fe:a9fe', '64:ff9b::8.8.8.8', '64:ff9b::ffff:ffff'],
    outside: ['64:ff9b::1:0:0']
  },
  '64:ff9b:1::/48': { inside: ['64:ff9b:1::808:808', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff'], outside: ['64:ff9b:2::1'] },
  '100::/64': { inside: ['100::', '100::ffff:ffff:ffff:ffff'], outside: ['ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'] },
  '100:0:0:1::/64': { inside: ['100:0:0:1::1'], outside: ['100:0:0:2::1'] },
  '2001::/23': {
    inside: ['2001::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:2::1', '2001:1ff:ffff::1'],
    outside: ['2001:200::1', '2000:ffff::1']
  },
  '2001:db8::/32': { inside: ['2001:db8::1', '2001:db8:ffff::1'], outside: ['2001:db9::1'] },
  '2002::/16': { inside: ['2002:7f00:1::1', '2002:808:808::1', '2002:ffff::1'], outside: ['2003::1'] },
  '2620:4f:8000::/48': { inside: ['2620:4f:8000::1'], outside: ['2620:4f:7fff::1', '2620:4f:8001::1'] },
  '3fff::/20': { inside: ['3fff::1', '3fff:fff::1'], outside: ['3fff:1000::1', '3ffe:ffff::1'] },
  '5f00::/16': { inside: ['5f00::1'], outside: ['5eff::1', '5f01::1'] },
  'fc00::/7': { inside: ['fc00::1', 'fd12:3456::1', 'fd00:ec2::254'], outside: ['fbff:ffff::1'] },
  'fe80::/10': { inside: ['fe80::1', 'fe80::1%eth0', 'febf:ffff::1'], outside: ['fe7f::1'] },
  'fec0::/10': { inside: ['fec0::1', 'feff:ffff::1'], outside: [] },
  'ff00::/8': { inside: ['ff02::1', 'ff0e::1'], outside: [] }
}

t.test('the test below covers every refused range, and only those', async (t) => {
  t.same(REFUSED_RANGES.map((r) => `${r.network}/${r.prefix}`).sort(), Object.keys(RANGES).sort())
})

for (const [range, { inside, outside }] of Object.entries(RANGES)) {
  t.test(`${range} is refused, its neighbours are not`, async (t) => {
    for (const address of inside) t.equal(isBlockedAddress(address), true, `${address} refused`)
    for (const address of outside) t.equal(isBlockedAddress(address), false, `${address} allowed`)
  })
}

t.test('public addresses are allowed', async (t) => {
  const allowed = ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4001::200e']
  for (const address of allowed) t.equal(isBlockedAddress(address), false, address)
})

t.test('anything that is not an IP address counts as blocked', async (t) => {
  t.equal(isBlockedAddress('example.com'), true)
  t.equal(isBlockedAddress(''), true)
  t.equal(isBlockedAddress('%eth0'), true)
})

t.test('ipLiteralOf tells IP hosts of URLs from names', async (t) => {
  t.equal(ipLiteralOf('127.0.0.1'), '127.0.0.1')
  t.equal(ipLiteralOf('[::1]'), '::1')
  t.equal(ipLiteralOf('example.com'), null)
  // The URL parser turns the odd IPv4 spellings into the dotted form before we see them.
  t.equal(ipLiteralOf(new URL('http://2130706433/').hostname), '127.0.0.1')
  t.equal(ipLiteralOf(new URL('http://0x7f.1/').hostname), '127.0.0.1')
})
