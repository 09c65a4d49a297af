import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createSchema, dropSchema, onPostgres, schemaUrl, uniqueSchemaName } from '../../helpers/db.js'
import { testPrivateKeyPem } from '../../helpers/keys.js'
import { BIN, HANG_MS, within } from '../run-kronus.js'

/* `kronus user create --admin`: the first admin from the terminal, by the REST sign-up's rules. */

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-user-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const ADA = [
  '--first-name',
  'Ada',
  '--last-name',
  'Lovelace',
  '--email',
  'Ada@Example.com',
  '--phone-number',
  '+12345678900'
]

/** Runs the built command with `stdin` piped in (not a terminal, so the password is read from it). */
async function runKronus(cwd: string, args: string[], stdin: string) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdin.end(stdin)
  const code = await within(
    new Promise<number | null>((resolve) => child.on('close', resolve)),
    HANG_MS,
    args.join(' '),
    child
  )
  return { code, stdout, stderr }
}

/** A config.yml for the database of this run: SQLCipher in `cwd`, or a fresh PostgreSQL schema. */
async function configFile(t: { teardown(fn: () => unknown): void }, cwd: string): Promise<string> {
  if (onPostgres()) {
    const schema = uniqueSchemaName()
    await createSchema(schema)
    t.teardown(() => dropSchema(schema))
    writeFileSync(join(cwd, 'config.yml'), `database:\n  client: postgres\n  connection: "${schemaUrl(schema)}"\n`)
  } else {
    writeFileSync(join(cwd, 'config.yml'), 'sqlite:\n  passPhrase: passphrase\n')
  }
  return 'config.yml'
}

t.test(
  'creates the first admin with the password from stdin, who can then log in; a second run is refused',
  async (t) => {
    const cwd = tempDir(t)
    const config = await configFile(t, cwd)
    const created = await runKronus(
      cwd,
      ['user', 'create', '--admin', ...ADA, '--config', config],
      'correct-horse-battery\n'
    )
    t.equal(created.code, 0, created.stderr)
    t.match(created.stdout, /^created admin ada@example\.com \(user 1\)\n$/)

    const { createKronus } = await import('../../../dist/src/app.js')
    const { loadConfig } = await import('../../../dist/src/config/load.js')
    const loaded = await loadConfig({
      file: config,
      dev: false,
      cwd,
      env: { KRONUS_PRIVATE_KEY_PEM: testPrivateKeyPem() }
    })
    const pino = (await import('pino')).default
    const kronus = await createKronus({ config: loaded, logger: pino({ level: 'silent' }), documentation: false })
    t.teardown(() => kronus.stop())
    const login = await kronus.server.inject({
      method: 'POST',
      url: '/login',
      payload: { email: 'ada@example.com', password: 'correct-horse-battery' }
    })
    t.equal(login.statusCode, 200, 'the password is the one given, without its line break')
    const users = await kronus.knex('users').select('email', 'role_id')
    t.same(users, [{ email: 'ada@example.com', role_id: 1 }], 'one user, an admin')
    await kronus.stop()

    const again = await runKronus(
      cwd,
      ['user', 'create', '--admin', ...ADA, '--email', 'eve@example.com', '--config', config],
      'pw\n'
    )
    t.equal(again.code, 1)
    t.match(again.stderr, /kronus: users exist already, so there is an admin/)
  }
)

t.test("bad input is refused with the REST sign-up's messages, naming the field; nothing is created", async (t) => {
  const cwd = tempDir(t)
  const config = await configFile(t, cwd)
  const badPhone = await runKronus(
    cwd,
    ['user', 'create', '--admin', ...ADA.slice(0, 6), '--phone-number', '12345', '--config', config],
    'correct-horse-battery\n'
  )
  t.equal(badPhone.code, 1)
  t.match(badPhone.stderr, /kronus: nothing was created: "phone_number" must be an E\.164 phone number/)
  const noPassword = await runKronus(cwd, ['user', 'create', '--admin', ...ADA, '--config', config], '')
  t.equal(noPassword.code, 1)
  t.match(noPassword.stderr, /nothing was created: "password"/)
  const withoutAdmin = await runKronus(cwd, ['user', 'create', ...ADA, '--config', config], 'correct-horse-battery\n')
  t.equal(withoutAdmin.code, 1)
  t.match(withoutAdmin.stderr, /only the first admin is created here \(--admin\)/)
  const created = await runKronus(
    cwd,
    ['user', 'create', '--admin', ...ADA, '--config', config],
    'correct-horse-battery\n'
  )
  t.equal(created.code, 0, 'after all those, the first admin can still be made')
})
