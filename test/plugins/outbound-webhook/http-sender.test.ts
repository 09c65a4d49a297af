import t from 'tap'
import { HttpSender } from '../../../plugins/outbound-webhook/http-sender.js'
import { fakeDns } from './fake-dns.js'
import { startReceiver } from './receiver.js'

/*
 * The SSRF guard where it matters: on real sockets. Only loopback ever receives traffic;
 * other addresses appear only as answers of a fake DNS, and are refused before connecting.
 */

const request = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{"type":"x"}' })

t.test('by default nothing is sent to a loopback address', async (t) => {
  const receiver = await startReceiver(t)
  const sender = new HttpSender({ resolve: fakeDns({}), allowPrivateNetworks: false, timeoutMs: 2000 })
  t.teardown(() => sender.close())
  for (const url of [
    `${receiver.origin}/`,
    `http://[::ffff:127.0.0.1]:${receiver.port}/`,
    `http://2130706433:${receiver.port}/`
  ]) {
    const attempt = await sender.send(request(url))
    t.equal(attempt.statusCode, null, url)
    t.match(attempt.error, /loopback, private, link-local or metadata address/, url)
  }
  t.equal(receiver.requests.length, 0, 'no request reached the receiver')
})

t.test('a name is checked at connect time, on every connection', async (t) => {
  const receiver = await startReceiver(t)
  const dns = fakeDns({ 'receiver.test': ['127.0.0.1'], 'internal.test': ['10.0.0.5'] })
  const guarded = new HttpSender({ resolve: dns, allowPrivateNetworks: false, timeoutMs: 2000 })
  t.teardown(() => guarded.close())

  const refused = await guarded.send(request(`http://internal.test:${receiver.port}/`))
  t.match(refused.error, /internal\.test resolves to 10\.0\.0\.5/)
  const rebound = await guarded.send(request(`http://receiver.test:${receiver.port}/`))
  t.match(rebound.error, /receiver\.test resolves to 127\.0\.0\.1/)
  t.equal(receiver.requests.length, 0)

  // The same lookup, with private networks allowed, is what the socket connects with.
  const open = new HttpSender({ resolve: dns, allowPrivateNetworks: true, timeoutMs: 2000 })
  t.teardown(() => open.close())
  const delivered = await open.send(request(`http://receiver.test:${receiver.port}/hook`))
  t.equal(delivered.statusCode, 200)
  t.equal(receiver.requests.length, 1)
  t.equal(receiver.requests[0]!.headers.host, `receiver.test:${receiver.port}`)
  await open.send(request(`http://receiver.test:${receiver.port}/hook`))
  t.same(
    dns.asked,
    ['internal.test', 'receiver.test', 'receiver.test', 'receiver.test'],
    'resolved again for every connection, never cached'
  )
})

t.test('redirects are not followed: a 3xx is a failed answer', async (t) => {
  const receiver = await startReceiver(t)
  const dns = fakeDns({ 'metadata.test': ['169.254.169.254'] })
  const sender = new HttpSender({ resolve: dns, allowPrivateNetworks: true, timeoutMs: 2000 })
  t.teardown(() => sender.close())
  receiver.respond = (req) =>
    req.path === '/to-metadata'
      ? { status: 302, headers: { location: 'http://metadata.test/latest/meta-data/' } }
      : { status: 307, headers: { location: `${receiver.origin}/internal-admin` } }

  const toMetadata = await sender.send(request(`${receiver.origin}/to-metadata`))
  t.equal(toMetadata.statusCode, 302)
  t.same(dns.asked, [], 'the redirect target was never even resolved')
  const toLoopback = await sender.send(request(`${receiver.origin}/to-loopback`))
  t.equal(toLoopback.statusCode, 307)
  t.same(
    receiver.requests.map((r) => r.path),
    ['/to-metadata', '/to-loopback'],
    'nothing requested the redirect targets'
  )
})

t.test('with private networks allowed the loopback receiver gets the request, body and headers', async (t) => {
  const receiver = await startReceiver(t)
  const sender = new HttpSender({ resolve: fakeDns({}), allowPrivateNetworks: true, timeoutMs: 2000 })
  t.teardown(() => sender.close())
  receiver.respond = () => ({ status: 201, body: 'é'.repeat(600) })
  const attempt = await sender.send({
    url: `${receiver.origin}/in`,
    headers: { 'webhook-id': 'msg_1' },
    body: '{"a":1}'
  })
  t.equal(attempt.statusCode, 201)
  t.equal(attempt.error, null)
  t.ok(Buffer.byteLength(attempt.responseBody) <= 1024, 'at most 1 KiB of the body is kept')
  t.equal(attempt.responseBody, 'é'.repeat(512), 'cut on a character boundary')
  t.equal(receiver.requests[0]!.body, '{"a":1}')
  t.equal(receiver.requests[0]!.headers['webhook-id'], 'msg_1')
})

t.test('an answer slower than the timeout is a failed attempt', async (t) => {
  const receiver = await startReceiver(t)
  const sender = new HttpSender({ resolve: fakeDns({}), allowPrivateNetworks: true, timeoutMs: 150 })
  t.teardown(() => sender.close())
  receiver.respond = () => 'hang'
  const attempt = await sender.send(request(`${receiver.origin}/slow`))
  t.same([attempt.statusCode, attempt.error], [null, 'timed out after 150 ms'])
})

t.test('an unreachable endpoint or a URL of another scheme is a failed attempt, not a crash', async (t) => {
  const receiver = await startReceiver(t)
  const port = receiver.port
  await receiver.close()
  const sender = new HttpSender({ resolve: fakeDns({}), allowPrivateNetworks: true, timeoutMs: 2000 })
  t.teardown(() => sender.close())
  t.match((await sender.send(request(`http://127.0.0.1:${port}/`))).error, /ECONNREFUSED/)
  t.match((await sender.send(request('ftp://127.0.0.1/'))).error, /unsupported URL scheme ftp:/)
})
