import t from 'tap'
import {
  addressGroup,
  addressList,
  clientAddress,
  isAddressOrCidr,
  normalizeAddress
} from '../../src/util/address-list.js'

t.test('trustProxy entries are addresses or CIDRs of either family', async (t) => {
  for (const entry of ['127.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '2001:db8::/32', '::/0'])
    t.ok(isAddressOrCidr(entry), entry)
  for (const entry of [
    '',
    'localhost',
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '10.0.0.0/x',
    '300.1.1.1',
    '10.0.0.0/-1'
  ]) {
    t.notOk(isAddressOrCidr(entry), JSON.stringify(entry))
  }
})

t.test('an address list matches its addresses and subnets, IPv4-mapped IPv6 peers included', async (t) => {
  const trusted = addressList(['10.9.0.0/16', '192.0.2.1', 'fd00::/8'])
  t.ok(trusted('10.9.255.1'))
  t.ok(trusted('::ffff:10.9.0.1'), 'a dual-stack listener reports IPv4 peers this way')
  t.ok(trusted('192.0.2.1'))
  t.ok(trusted('fd12::3'))
  t.notOk(trusted('10.10.0.1'))
  t.notOk(trusted('192.0.2.2'))
  t.notOk(trusted('not an address'))
  t.notOk(addressList([])('127.0.0.1'), 'an empty list trusts nobody')
  t.equal(normalizeAddress(' ::FFFF:192.0.2.1 '), '192.0.2.1')
})

t.test('the client is the first untrusted hop, read from the right of X-Forwarded-For', async (t) => {
  const proxies = addressList(['10.0.0.0/8'])
  t.equal(
    clientAddress('203.0.113.5', '198.51.100.1', proxies),
    '203.0.113.5',
    'an untrusted peer is the client, whatever it sends'
  )
  t.equal(clientAddress('10.0.0.2', undefined, proxies), '10.0.0.2', 'a proxy without the header is the client')
  t.equal(clientAddress('10.0.0.2', '203.0.113.5', proxies), '203.0.113.5')
  t.equal(
    clientAddress('10.0.0.2', '198.51.100.1, 203.0.113.5', proxies),
    '203.0.113.5',
    'a forged left part is not read'
  )
  t.equal(clientAddress('10.0.0.2', '203.0.113.5, 10.0.0.7', proxies), '203.0.113.5', 'through two trusted hops')
  t.equal(clientAddress('10.0.0.2', '10.0.0.9, 10.0.0.7', proxies), '10.0.0.9', 'only proxies: the leftmost')
  t.equal(
    clientAddress('10.0.0.2', 'garbage, 10.0.0.7', proxies),
    '10.0.0.7',
    'a hop that is not an address stops the walk'
  )
  t.equal(clientAddress('10.0.0.2', '2001:db8::1', proxies), '2001:db8::1')
})

t.test('limits count an IPv4 address alone and an IPv6 address by its /64', async (t) => {
  t.equal(addressGroup('203.0.113.5'), '203.0.113.5')
  t.equal(addressGroup('::ffff:203.0.113.5'), '203.0.113.5')
  t.equal(addressGroup('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
  t.equal(addressGroup('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64', 'any address of the same /64')
  t.equal(addressGroup('2001:db8::1'), '2001:db8:0:0::/64')
  t.equal(addressGroup('::1'), '0:0:0:0::/64')
  t.equal(addressGroup('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64', 'an embedded IPv4 tail')
  t.equal(addressGroup('fe80::1%eth0'), 'fe80:0:0:0::/64', 'a zone id is dropped')
  t.not(addressGroup('2001:db8:1:3::1'), addressGroup('2001:db8:1:2::1'), 'the next /64 is another group')
})
