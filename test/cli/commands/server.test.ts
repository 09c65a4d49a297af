import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { EXAMPLE_CONFIG_YML, filledExampleConfig } from '../../helpers/example-config.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { freePort, HANG_MS, heapLimitFactors, REPO, startKronus, waitForHealth, within } from '../run-kronus.js'

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

t.test("the server's heap grows by half of what a collection kept (src/cli/heap-growth.ts)", async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  // No log lines: V8's lines, buffered by C stdio, could be cut by one written between them.
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  privateKeyPem:\n  listener:\n    port: 1\n  sqlite:\n    passPhrase: passphrase\nlogging:\n  level: silent\n'
  )
  // V8 prints each new heap limit with its factor; a heap snapshot on SIGUSR2 collects first.
  const run = startKronus(['server', '--config', 'config.yml'], {
    cwd,
    env: { KRONUS_PORT: String(port), KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() },
    nodeArgs: ['--trace-gc-verbose', '--heapsnapshot-signal=SIGUSR2']
  })
  t.teardown(() => run.child.kill('SIGKILL'))
  await waitForHealth(run, port)
  run.child.kill('SIGUSR2')
  await within(
    (async () => {
      while (!readdirSync(cwd).some((f) => f.endsWith('.heapsnapshot'))) await new Promise((r) => setTimeout(r, 100))
    })(),
    HANG_MS,
    'the heap snapshot',
    run.child
  )
  run.child.kill('SIGTERM')
  t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
  t.notMatch(run.stdout(), /"level"/, 'no log lines')
  // V8's lines reach the pipe in 4 KiB pieces, the last when the process exits.
  const factors = heapLimitFactors(run.stdout())
  t.ok(factors.length > 0, 'major collections were traced')
  t.equal(factors.at(-1), 1.5, 'the last collection, after the start, set the next limit at 1.5× the live heap')
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
  t.same(
    readdirSync(join(cwd, 'dev')).filter((file) => file.startsWith('kronus.db')),
    [],
    'the failed first start left no database behind'
  )
})

t.test('a failed start keeps a database that existed before it', async (t) => {
  const cwd = tempDir(t)
  const port = await freePort()
  const first = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => first.child.kill('SIGKILL'))
  await waitForHealth(first, port)
  first.child.kill('SIGTERM')
  await within(first.exited, HANG_MS, 'stop', first.child)
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => blocker.close())
  const busy = (blocker.address() as { port: number }).port
  const second = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(busy) } })
  t.equal((await within(second.exited, HANG_MS, 'failed start', second.child)).code, 1)
  t.ok(existsSync(join(cwd, 'dev', 'kronus.db')), 'the database of the first start is still there')
})

t.test('a first start that fails after creating its database (a bad Twilio key) removes it', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(
    join(cwd, 'config.yml'),
    'kronus:\n  publicUrl: "https://kronus.example"\nsqlite:\n  passPhrase: p\ntwilio:\n  accountSid: XX123\n  authToken: t\n  messagingServiceSid: MG1\n'
  )
  const run = startKronus(['server', '--config', 'config.yml'], {
    cwd,
    env: { KRONUS_PORT: String(await freePort()), KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  })
  t.teardown(() => run.child.kill('SIGKILL'))
  t.equal((await within(run.exited, HANG_MS, 'failed start', run.child)).code, 1)
  t.match(run.stderr(), /twilio\.accountSid must start with "AC"/)
  t.match(run.stdout(), `database ${join(cwd, 'kronus.db')}`, 'the database had been created and opened')
  t.same(
    readdirSync(cwd).filter((file) => file.startsWith('kronus.db')),
    [],
    'no database, WAL or shared-memory file is left behind'
  )
})

t.test('a database opened with another passphrase fails in one line naming the setting and the file', async (t) => {
  const cwd = tempDir(t)
  const config = (passPhrase: string) =>
    writeFileSync(
      join(cwd, 'config.yml'),
      `kronus:\n  publicUrl: "http://localhost"\nsqlite:\n  passPhrase: ${passPhrase}\n`
    )
  const env = { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
  config('the-first-one')
  const port = await freePort()
  const first = startKronus(['server', '--config', 'config.yml'], { cwd, env: { ...env, KRONUS_PORT: String(port) } })
  t.teardown(() => first.child.kill('SIGKILL'))
  await waitForHealth(first, port)
  first.child.kill('SIGTERM')
  await within(first.exited, HANG_MS, 'stop', first.child)

  config('another-one')
  const second = startKronus(['server', '--config', 'config.yml'], {
    cwd,
    env: { ...env, KRONUS_PORT: String(await freePort()) }
  })
  t.equal((await within(second.exited, HANG_MS, 'failed start', second.child)).code, 1)
  t.equal(
    second.stderr(),
    `kronus: cannot open ${join(cwd, 'kronus.db')}: kronus.sqlite.passPhrase (or KRONUS_SQLITE_PASSPHRASE) is not the passphrase this database was created with, or the file is not a Kronus database\n`,
    "one line, without SQLCipher's own hmac lines"
  )
  t.ok(existsSync(join(cwd, 'kronus.db')), 'the database is kept')
})

t.test('npm run dev (server --dev) loads ./kronus.config.ts and starts its plugins', async (t) => {
  const cwd = tempDir(t)
  // The repository's example plugin, as the repository's kronus.config.ts lists it.
  const plugin = pathToFileURL(join(REPO, 'examples', 'plugins', 'aliveness-logger.ts')).href
  writeFileSync(
    join(cwd, 'kronus.config.ts'),
    `import { alivenessLogger } from '${plugin}'\n` +
      "export default { kronus: { cron: { timeZone: 'America/Toronto' } }, plugins: [alivenessLogger({ summaryCron: '0 8 * * *' })] }\n"
  )
  const port = await freePort()
  const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => run.child.kill('SIGKILL'))
  await waitForHealth(run, port)
  t.match(
    run.stdout(),
    /plugins started: aliveness-logger, twilio-sms, sms-commands, emergency-contact, outbound-webhook/
  )
  t.ok(existsSync(join(cwd, 'dev', 'kronus.db')), 'dev mode still keeps its data in ./dev')
  run.child.kill('SIGTERM')
  t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
})

t.test('examples/config.yml starts once its FILL IN values are filled in, and names them all until then', async (t) => {
  const cwd = tempDir(t)
  writeFileSync(join(cwd, 'config.yml'), readFileSync(EXAMPLE_CONFIG_YML))
  const unfilled = startKronus(['server', '--config', 'config.yml'], {
    cwd,
    env: { KRONUS_PORT: String(await freePort()) }
  })
  t.equal((await within(unfilled.exited, HANG_MS, 'failed start', unfilled.child)).code, 1)
  for (const key of ['kronus.privateKeyPem', 'twilio.accountSid', 'twilio.authToken', 'twilio.messagingServiceSid'])
    t.match(unfilled.stderr(), key, `one run names ${key}`)

  writeFileSync(join(cwd, 'config.yml'), filledExampleConfig(testPrivateKeyPem()))
  const port = await freePort()
  const run = startKronus(['server', '--config', 'config.yml'], { cwd, env: { KRONUS_PORT: String(port) } })
  t.teardown(() => run.child.kill('SIGKILL'))
  await waitForHealth(run, port)
  t.match(run.stdout(), /plugins started: twilio-sms, sms-commands, emergency-contact, outbound-webhook"/)
  run.child.kill('SIGTERM')
  t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })
})

t.test(
  "a kronus.config.ts and the user's TypeScript it imports: stack traces and syntax errors name their lines",
  async (t) => {
    const cwd = tempDir(t)
    writeFileSync(
      join(cwd, 'plugin.ts'),
      [
        "import { definePlugin } from 'kronus'",
        '',
        'type Where = string | undefined',
        'export const tracing = definePlugin({',
        "  name: 'tracing',",
        "  version: '1.0.0',",
        '  register(): void {',
        "    const where: Where = new Error('here').stack?.split('\\n')[1]",
        '    console.log(`register ran ${where}`)',
        '  }',
        '})'
      ].join('\n')
    )
    writeFileSync(
      join(cwd, 'kronus.config.ts'),
      "import { tracing } from './plugin.js'\nexport default { plugins: [tracing()] }\n"
    )
    const port = await freePort()
    const run = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(port) } })
    t.teardown(() => run.child.kill('SIGKILL'))
    await waitForHealth(run, port)
    t.match(run.stdout(), `register ran     at Object.register (${join(cwd, 'plugin.ts')}:8:`)
    run.child.kill('SIGTERM')
    t.same(await within(run.exited, HANG_MS, 'stop', run.child), { code: 0, signal: null })

    writeFileSync(
      join(cwd, 'kronus.config.ts'),
      "import { tracing } from './plugin.js'\nexport default { plugins: [tracing()],, }\n"
    )
    const broken = startKronus(['server', '--dev'], { cwd, env: { KRONUS_PORT: String(await freePort()) } })
    t.teardown(() => broken.child.kill('SIGKILL'))
    t.same(await within(broken.exited, HANG_MS, 'refuse to start', broken.child), { code: 1, signal: null })
    t.ok(
      broken
        .stderr()
        .includes(
          `kronus: cannot load configuration file ${join(cwd, 'kronus.config.ts')}:\n` +
            `  - ${join(cwd, 'kronus.config.ts')}:2:39: Expected identifier but found ","\n`
        ),
      'one line naming the file, line and column'
    )
  }
)
