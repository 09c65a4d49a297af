import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { freePort, HANG_MS, startKronus, waitForHealth, within } from '../run-kronus.js'

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-server-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('server --dev starts without a file, answers /health, warns, and stops on SIGTERM with 0', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => run.child.kill('SIGKILL'))
  const health = await waitForHealth(run, port)
  t.match(health, { success: true, data: { status: 'ok' } })
  t.match(run.stderr(), /KRONUS IS RUNNING IN DEVELOPMENT MODE/)
  t.match(run.stderr(), /DO NOT USE IT FOR REAL PEOPLE/)
  t.equal(statSync(join(cwd, 'dev', 'kronus.db')).isFile(), true, 'the database is under ./dev')
  t.equal(statSync(join(cwd, 'dev', 'private-key.pem')).mode & 0o777, 0o600)

  run.child.kill('SIGTERM')
  const exit = await within(run.exited, HANG_MS, 'stop on SIGTERM', run.child)
  t.same(exit, { code: 0, signal: null })
  t.notMatch(run.stdout(), /kronus user create --admin/, 'dev mode listens on loopback only: no first-admin warning')
  await t.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no longer listening')
})

t.test('a second dev start reuses the secrets and opens the same encrypted database; SIGINT stops it', async (t) => {
  const cwd = tempDir(t)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const port = await freePort()
    const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
    t.teardown(() => run.child.kill('SIGKILL'))
    await waitForHealth(run, port)
    run.child.kill(signal)
    const exit = await within(run.exited, HANG_MS, `stop on ${signal}`, run.child)
    t.same(exit, { code: 0, signal: null }, `${signal} stops with exit 0`)
  }
})

t.test('a signal delivered twice at once (Ctrl-C through npm) still stops gracefully', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => run.child.kill('SIGKILL'))
  await waitForHealth(run, port)
  run.child.kill('SIGINT')
  run.child.kill('SIGINT')
  t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
  t.notMatch(run.stderr(), /exiting at once/)
})

t.test('server --config with a config.yml in the first format starts', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  privateKeyPem:\n  publicUrl: "http://localhost"\n  listener:\n    port: 1\n  sqlite:\n    passPhrase: passphrase\ngoogle:\n  storage:\n    enableSqliteBackupAndSync: false\n'
  )
  const run = startKronus(['server', '--config', 'config.yml'], {
    cwd,
    env: { KRONUS_PORT: String(port), KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  })
  t.teardown(() => run.child.kill('SIGKILL'))
  await waitForHealth(run, port)
  t.notMatch(run.stderr(), /DEVELOPMENT MODE/, 'no dev warning outside dev mode')
  t.equal(statSync(join(cwd, 'kronus.db')).isFile(), true, 'the database is in the working folder')
  t.equal(statSync(join(cwd, 'kronus.db')).mode & 0o777, 0o600, 'readable by its owner only')
  run.child.kill('SIGTERM')
  t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
  t.match(run.stdout(), `"database":"${join(cwd, 'kronus.db')}"`, 'the database path is logged at start')
  t.match(
    run.stdout(),
    /first account to sign up .* becomes the admin.*kronus user create --admin/,
    'no user yet: warned'
  )
})

t.test('a port in use fails the start with exit 1 and the reason', async (t) => {
  const cwd = tempDir(t)
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const port = (blocker.address() as { port: number }).port
  const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => run.child.kill('SIGKILL'))
  const exit = await within(run.exited, HANG_MS, 'failed start', run.child)
  t.equal(exit.code, 1)
  t.match(run.stderr(), `kronus: port ${port} is in use: set KRONUS_PORT or kronus.listener.port\n`)
})
