import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { takeSnapshot } from '../../plugins/gcs-backup/snapshot.js'
import { createKronus } from '../../src/app.js'
import { FakeClock } from '../../src/clock.js'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfig } from '../../src/config/resolve.js'
import { buildKronus } from '../helpers/app.js'
import { adminQuery, leaseSchema, schemaUrl, testDatabaseUrl, uniqueSchemaName } from '../helpers/db.js'
import { call, createAdmin, createContact, login } from '../helpers/http.js'
import { testPrivateKeyPem } from '../helpers/keys.js'

/*
 * What PostgreSQL changes for an operator: where the tables go, restarts, start-up errors,
 * instances that start together. The rest of the suite also runs on PostgreSQL (npm test).
 */

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-pg-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A schema that lives for the test, reached only through `connection` (as a deployment would). */
async function schemaForTest(t: {
  teardown(fn: () => unknown): void
}): Promise<{ schema: string; connection: string }> {
  const schema = uniqueSchemaName('kt_conn')
  t.teardown(await leaseSchema(schema))
  return { schema, connection: schemaUrl(schema) }
}

function postgresConfig(connection: string, dir: string) {
  return resolveConfig({
    dataDir: dir,
    database: { client: 'postgres', connection },
    kronus: { privateKeyPem: testPrivateKeyPem(), listener: { port: 0, host: '127.0.0.1' } },
    logging: { level: 'silent' }
  })
}

async function tablesIn(schema: string): Promise<string[]> {
  const { rows } = await adminQuery(
    'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
    [schema]
  )
  return rows.map((r: { table_name: string }) => r.table_name)
}

t.test(
  'the connection string alone, from KRONUS_DATABASE_URL, picks PostgreSQL and the schema the tables go in',
  async (t) => {
    const { schema, connection } = await schemaForTest(t)
    const dir = tempDir(t)
    const loaded = await loadConfig({
      file: undefined,
      dev: true,
      cwd: dir,
      env: { KRONUS_DATABASE_URL: connection }
    })
    t.equal(loaded.database.client, 'postgres', 'no database.client needed')
    t.equal(loaded.database.connection, connection)
    const kronus = await createKronus({
      config: { ...loaded, logging: { ...loaded.logging, level: 'silent' } },
      logger: pino({ level: 'silent' })
    })
    t.teardown(() => kronus.stop())
    const tables = await tablesIn(schema)
    for (const table of ['users', 'probes', 'jobs', 'events', 'knex_migrations'])
      t.ok(tables.includes(table), `${table} is in ${schema}`)
    const admin = await createAdmin(kronus)
    const users = await adminQuery(`SELECT email FROM "${schema}".users`)
    t.same(users.rows, [{ email: admin.email }], 'rows are written there too')
  }
)

t.test('data survives a restart', async (t) => {
  const dir = tempDir(t)
  const first = await buildKronus(t, { dir, database: 'postgres' })
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

  const second = await buildKronus(t, { dir, clock: first.clock, database: 'postgres' })
  const token = await login(second, admin.email, admin.password)
  const user = await call(second, { url: `/v1/users/${admin.id}`, token })
  t.equal(user.body.data.role_id, 1, 'still the admin')
  t.match(user.body.data.probe_settings, { active: true, cron_expression: '30 7 * * *' })
  t.same((await call(second, { url: `/v1/users/${admin.id}/contacts`, token })).body.data, [contact])
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

t.test('timestamps and counts come back as numbers, booleans as booleans', async (t) => {
  const kronus = await buildKronus(t, { database: 'postgres' })
  const admin = await createAdmin(kronus)
  await createContact(kronus, admin, { is_emergency_contact: true })
  const row = await kronus.knex('users').where({ id: admin.id }).first()
  t.equal(typeof row.created_at, 'number', 'bigint epoch ms is a number, not a string')
  t.equal(row.created_at, kronus.clock.now())
  const [{ n }] = await kronus.knex('users').count({ n: '*' })
  t.equal(n, 1)
  const contacts = await call(kronus, { url: `/v1/users/${admin.id}/contacts`, token: admin.token })
  t.equal(contacts.body.data[0].is_emergency_contact, true)
  const stats = await call(kronus, { url: '/v1/jobs/stats', token: admin.token })
  t.equal(stats.statusCode, 200)
  for (const value of Object.values(stats.body.data)) t.equal(typeof value, 'number')
})

t.test('instances that start together on an empty schema migrate it once and all start', async (t) => {
  const { schema, connection } = await schemaForTest(t)
  const dir = tempDir(t)
  const config = postgresConfig(connection, dir)
  const instances = await Promise.all(
    [1, 2, 3].map(() => createKronus({ config, clock: new FakeClock(), logger: pino({ level: 'silent' }) }))
  )
  t.teardown(() => Promise.all(instances.map((k) => k.stop())))
  const { rows } = await adminQuery(
    `SELECT name, count(*)::int AS times FROM "${schema}".knex_migrations GROUP BY name`
  )
  t.ok(rows.length >= 4, 'every migration ran')
  t.ok(
    rows.every((r: { times: number }) => r.times === 1),
    'each exactly once'
  )
  for (const kronus of instances) t.equal((await call(kronus, { url: '/health' })).statusCode, 200)
})

t.test('a search_path that names no existing schema stops start-up with a message that says so', async (t) => {
  const dir = tempDir(t)
  const missing = uniqueSchemaName('kt_missing')
  const config = postgresConfig(schemaUrl(missing), dir)
  await t.rejects(
    createKronus({ config, logger: pino({ level: 'silent' }) }),
    new RegExp(`no schema of the search_path "${missing}" exists`)
  )
})

t.test('an unreachable server stops start-up with the connection error', async (t) => {
  const dir = tempDir(t)
  const url = new URL(testDatabaseUrl())
  url.port = '1'
  const config = postgresConfig(url.toString(), dir)
  await t.rejects(createKronus({ config, logger: pino({ level: 'silent' }) }), /ECONNREFUSED/)
})

t.test('gcs-backup refuses to snapshot PostgreSQL: it is backed up with its own tools', async (t) => {
  const kronus = await buildKronus(t, { database: 'postgres' })
  await t.rejects(takeSnapshot(kronus.knex, join(kronus.dir, 'snapshot.db')), /back PostgreSQL up with its own tools/)
})
