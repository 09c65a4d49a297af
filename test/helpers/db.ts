import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'

/*
 * Which database the suite runs on. `npm test` runs every file twice: once on SQLCipher
 * (the default) and once with KRONUS_TEST_DB=postgres, where every buildKronus works in
 * a schema of its own on the PostgreSQL server named by KRONUS_TEST_DATABASE_URL.
 */

export type TestDatabase = 'sqlcipher' | 'postgres'

export function testDatabase(): TestDatabase {
  const value = process.env.KRONUS_TEST_DB ?? 'sqlcipher'
  if (value !== 'sqlcipher' && value !== 'postgres')
    throw new Error(`KRONUS_TEST_DB must be sqlcipher or postgres, got "${value}"`)
  return value
}

/** True in the PostgreSQL run of the suite. */
export function onPostgres(): boolean {
  return testDatabase() === 'postgres'
}

export function testDatabaseUrl(): string {
  return process.env.KRONUS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
}

/**
 * The connection string of a test Kronus: its commits do not wait for the write-ahead log
 * to reach the disk (synchronous_commit=off). Only a crash of the PostgreSQL server could
 * lose them, which no test causes; what other transactions see, and when, is unchanged.
 */
export function testKronusDatabaseUrl(): string {
  const url = new URL(testDatabaseUrl())
  const options = url.searchParams.get('options')
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c synchronous_commit=off`)
  return url.toString()
}

/** The connection string of `schema`: every connection opened with it works in that schema. */
export function schemaUrl(schema: string): string {
  const url = new URL(testDatabaseUrl())
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

/**
 * The schema of a data folder. A restart test reuses its folder to reopen "the same
 * database"; on PostgreSQL that must be the same schema, so the name comes from the folder.
 */
export function schemaForDir(dir: string): string {
  return `kt_${createHash('sha256').update(dir).digest('hex').slice(0, 24)}`
}

export function uniqueSchemaName(prefix = 'kt'): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`
}

/** Runs one statement on a connection of its own, outside any knex pool. */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() })
  await client.connect()
  try {
    return await client.query(sql, params)
  } finally {
    await client.end()
  }
}

function quoted(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unexpected schema name "${schema}"`)
  return `"${schema}"`
}

/** Marks test schemas with their creation time, so a crashed run's leftovers can be told from live ones. */
export const TEST_SCHEMA_COMMENT = 'kronus test schema, created at '

export async function createSchema(schema: string): Promise<void> {
  // One connection for both statements: every connection is a new server process.
  await adminQuery(
    `CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}; COMMENT ON SCHEMA ${quoted(schema)} IS '${TEST_SCHEMA_COMMENT}${Date.now()}'`
  )
}

export async function dropSchema(schema: string): Promise<void> {
  await adminQuery(`DROP SCHEMA IF EXISTS ${quoted(schema)} CASCADE`)
}

const leases = new Map<string, { count: number; created: Promise<void> }>()

/**
 * Creates the schema on its first lease. Several Kronus instances of one test (a restart,
 * or two instances on one database) lease the same schema; it is dropped when the last
 * of them is torn down.
 */
export async function leaseSchema(schema: string): Promise<() => Promise<void>> {
  let lease = leases.get(schema)
  if (!lease) {
    lease = { count: 0, created: createSchema(schema) }
    leases.set(schema, lease)
  }
  lease.count += 1
  await lease.created
  let released = false
  return async () => {
    if (released) return
    released = true
    lease.count -= 1
    if (lease.count > 0) return
    leases.delete(schema)
    await dropSchema(schema)
  }
}
