import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildKronus } from '../helpers/app.js'
import { call, createAdmin, createContact, login } from '../helpers/http.js'

// What a configuration holds: a passphrase, which SQLCipher turns into the key (the test builder's default is a raw key).
const PASSPHRASE = { kronus: { sqlite: { passPhrase: 'correct horse battery staple' } } }

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-db-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('the database file is encrypted: no SQLite header, no plaintext rows', async (t) => {
  const dir = tempDir(t)
  const kronus = await buildKronus(t, { dir, config: PASSPHRASE })
  const admin = await createAdmin(kronus, { email: 'plaintext-canary@example.com' })
  await createContact(kronus, admin, { first_name: 'canarycontact' })

  const check = (when: string) => {
    const files = readdirSync(dir).filter((f) => f.startsWith('kronus.db'))
    t.ok(files.includes('kronus.db'), `${when}: the database file exists`)
    const main = readFileSync(join(dir, 'kronus.db'))
    t.notOk(
      main.subarray(0, 16).toString('latin1').startsWith('SQLite format 3'),
      `${when}: no plaintext SQLite header`
    )
    for (const file of files) {
      const bytes = readFileSync(join(dir, file)).toString('latin1')
      t.notOk(bytes.includes('plaintext-canary'), `${when}: ${file} does not contain a user's email`)
      t.notOk(bytes.includes('canarycontact'), `${when}: ${file} does not contain a contact's name`)
    }
    return files
  }
  // While running the newest rows sit in the write-ahead log; after stopping, in the main file.
  t.ok(check('running').includes('kronus.db-wal'), 'the write-ahead log was checked too')
  await kronus.stop()
  check('stopped')
})

t.test('the wrong passphrase is refused at start with a clear message', async (t) => {
  const dir = tempDir(t)
  const kronus = await buildKronus(t, { dir, config: PASSPHRASE })
  const admin = await createAdmin(kronus)
  await kronus.stop()
  await t.rejects(
    buildKronus(t, { dir, config: { kronus: { sqlite: { passPhrase: 'not-the-passphrase' } } } }),
    /kronus\.sqlite\.passPhrase \(or KRONUS_SQLITE_PASSPHRASE\) is not the passphrase this database was created with/
  )
  const again = await buildKronus(t, { dir, config: PASSPHRASE })
  t.ok(await login(again, admin.email, admin.password), 'the failed attempt left the data intact')
})

t.test('data survives a restart', async (t) => {
  const dir = tempDir(t)
  const first = await buildKronus(t, { dir })
  const admin = await createAdmin(first)
  const contact = await createContact(first, admin, { is_emergency_contact: true })
  t.equal(
    (
      await call(first, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: true, cron_expression: '30 7 * * *' }
      })
    ).statusCode,
    200
  )
  await first.stop()

  const second = await buildKronus(t, { dir, clock: first.clock })
  const token = await login(second, admin.email, admin.password)
  const user = await call(second, { url: `/v1/users/${admin.id}`, token })
  t.equal(user.statusCode, 200)
  t.equal(user.body.data.role_id, 1, 'still the admin')
  t.match(user.body.data.probe_settings, { active: true, cron_expression: '30 7 * * *' })
  const contacts = await call(second, { url: `/v1/users/${admin.id}/contacts`, token })
  t.same(contacts.body.data, [contact])
  t.equal(
    (await call(second, { url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    200,
    'tokens issued before the restart still work'
  )
  const anotherFirstUser = await call(second, {
    method: 'POST',
    url: '/v1/users',
    payload: {
      first_name: 'a',
      last_name: 'b',
      email: 'late@example.com',
      password: 'late-secret-1',
      phone_number: '+15551112222'
    }
  })
  t.equal(anotherFirstUser.statusCode, 401, 'the first-user rule does not reopen after a restart')
})
