import t from 'tap'
import { ipLiteralOf, isBlockedAddress } from '../../../plugins/outbound-webhook/addresses.js'

t.test('loopback, private, link-local, CGNAT, metadata and unspecified addresses are blocked', async (t) => {
  const blocked = [
    '127.0.0.1',
    '127.255.255.254',
    '0.0.0.0',
    '0.1.2.3',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '192.168.255.255',
    '169.254.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '[::1]',
    'fc00::1',
    'fd12:3456::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'febf:ffff::1',
    'ff02::1'
  ]
  for (const address of blocked) t.equal(isBlockedAddress(address), true, address)
})

t.test('IPv4-mapped (and other IPv4-carrying) IPv6 forms are judged by their IPv4 address', async (t) => {
  const blocked = [
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:7f00:0001',
    '::ffff:10.0.0.1',
    '::ffff:a00:1',
    '::ffff:169.254.169.254',
    '::ffff:a9fe:a9fe',
    '::ffff:0.0.0.0',
    '::ffff:192.168.1.1',
    '::ffff:100.64.0.1',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe'
  ]
  for (const address of blocked) t.equal(isBlockedAddress(address), true, address)
  for (const address of ['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808']) t.equal(isBlockedAddress(address), false, address)
})

t.test('public addresses, including neighbours of the blocked ranges, are allowed', async (t) => {
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '9.255.255.255',
    '11.0.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    'fbff:ffff::1',
    'fe7f::1'
  ]
  for (const address of allowed) t.equal(isBlockedAddress(address), false, address)
})

t.test('anything that is not an IP address counts as blocked', async (t) => {
  t.equal(isBlockedAddress('example.com'), true)
  t.equal(isBlockedAddress(''), true)
})

t.test('ipLiteralOf tells IP hosts of URLs from names', async (t) => {
  t.equal(ipLiteralOf('127.0.0.1'), '127.0.0.1')
  t.equal(ipLiteralOf('[::1]'), '::1')
  t.equal(ipLiteralOf('example.com'), null)
  // The URL parser turns the odd IPv4 spellings into the dotted form before we see them.
  t.equal(ipLiteralOf(new URL('http://2130706433/').hostname), '127.0.0.1')
  t.equal(ipLiteralOf(new URL('http://0x7f.1/').hostname), '127.0.0.1')
})
