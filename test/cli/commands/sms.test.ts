import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { FILLED_TWILIO, filledExampleConfig } from '../../helpers/example-config.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { freePort, HANG_MS, runKronus, startKronus, waitForHealth, within } from '../run-kronus.js'

/* `kronus sms`, twilio-sms's command: texts a running server through its signed webhook. Uses dist/. */

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-sms-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function post(port: number, path: string, body: unknown, token?: string): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body)
  })
  return res.json()
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 100))
}

t.test('against a dev server: a check-in asked for by text, answered N, raises the alarm and says so', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  const env = { KRONUS_PORT: String(port) }
  const server = startKronus(['server', '--dev'], { cwd, env })
  t.teardown(() => server.child.kill('SIGKILL'))
  await waitForHealth(server, port)
  const ada = { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', password: 'analytical-engine' }
  await post(port, '/v1/users', { ...ada, phone_number: '+15550000001' })
  const { data } = await post(port, '/login', { email: ada.email, password: ada.password })
  await post(
    port,
    '/v1/users/1/contacts',
    { first_name: 'Mary', last_name: 'Somerville', phone_number: '+15550000002', is_emergency_contact: true },
    data.token
  )

  const sms = (from: string, text: string) => runKronus(['sms', '--from', from, text], { cwd, env })
  const asked = await sms('+15550000001', 'probe --in 0')
  t.same(asked, {
    code: 0,
    signal: null,
    stdout: 'OK: Kronus will check on you now, with up to 3 follow-ups 10 minutes apart.\n',
    stderr: ''
  })
  await within(
    until(() => server.stdout().includes('[kronus dev] text to +15550000001:\nAre you OK Ada? Reply Y or N.\n')),
    HANG_MS,
    'the check-in in the dev log'
  )

  const no = await sms('+15550000001', 'N')
  t.equal(no.code, 0)
  t.equal(
    no.stdout,
    'We are alerting your emergency contacts now.\n',
    'the reply tells the truth: alerting, not helped'
  )
  await within(
    until(() => server.stdout().includes('[kronus dev] text to +15550000002:')),
    HANG_MS,
    "the contact's alert in the dev log"
  )

  const stranger = await sms('+15559999999', 'hello')
  t.same([stranger.code, stranger.stdout, stranger.stderr], [0, '', '(no reply)\n'], 'no user: an empty reply')
})

t.test('outside dev mode the webhook takes only a valid Twilio signature', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  const env = { KRONUS_PORT: String(port) }
  writeFileSync(join(cwd, 'config.yml'), filledExampleConfig(testPrivateKeyPem()))
  const server = startKronus(['server', '--config', 'config.yml'], { cwd, env })
  t.teardown(() => server.child.kill('SIGKILL'))
  await waitForHealth(server, port)

  const unsigned = await fetch(`http://127.0.0.1:${port}/webhook/sms`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'From=%2B15550000001&Body=Y&MessageSid=SM1'
  })
  t.equal(unsigned.status, 401, 'an unsigned post is refused')

  // A dev token in ./dev is never accepted by a server that is not in dev mode.
  const devFolder = tempDir(t)
  const dev = await runKronus(['sms', '--from', '+15550000001', 'Y', '--url', `http://127.0.0.1:${port}`], {
    cwd: devFolder
  })
  t.equal(dev.code, 1)
  t.match(dev.stderr, `refused the signature (401)`)

  const otherToken = join(cwd, 'other.yml')
  writeFileSync(otherToken, filledExampleConfig(testPrivateKeyPem()).replace(FILLED_TWILIO.authToken, 'a'.repeat(32)))
  const wrong = await runKronus(['sms', '--from', '+15550000001', 'Y', '--config', 'other.yml'], { cwd, env })
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, 'refused the signature (401)', "another token's signature is refused")

  const signed = await runKronus(['sms', '--from', '+15550000001', 'ping', '--config', 'config.yml'], { cwd, env })
  t.same([signed.code, signed.stderr], [0, '(no reply)\n'], "signed with the server's token it is taken (no such user)")
})

t.test('no server listening: says where it looked', async (t) => {
  const port = await freePort()
  const res = await runKronus(['sms', '--from', '+15550000001', 'Y'], {
    cwd: tempDir(t),
    env: { KRONUS_PORT: String(port) }
  })
  t.equal(res.code, 1)
  t.match(res.stderr, `kronus: no server answers at http://127.0.0.1:${port}`)
})
