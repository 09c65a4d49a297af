import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Knex } from 'knex'
import pg from 'pg'
import type { KronusConfigInput } from '../../src/config/types.js'

export type BenchDb = 'sqlcipher' | 'postgres'
export const BENCH_DBS: readonly BenchDb[] = ['sqlcipher', 'postgres']

/**
 * Where one benchmark case keeps its data: a fresh SQLCipher file in a temp folder, or a
 * fresh schema on the PostgreSQL server. The parent process makes and removes it, so a
 * case that crashes or is killed leaves nothing behind.
 */
export interface BenchDatabaseSpec {
  kind: BenchDb
  /** Temp folder (both kinds: Kronus's dataDir). */
  dir: string
  /** PostgreSQL schema, for postgres. */
  schema?: string
  /** PostgreSQL connection string, for postgres. */
  url?: string
}

export const PASSPHRASE = 'bench-passphrase'

export function benchDatabaseUrl(): string {
  return process.env.KRONUS_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
}

function quoted(schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unexpected schema name "${schema}"`)
  return `"${schema}"`
}

export async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: benchDatabaseUrl() })
  await client.connect()
  try {
    return await client.query(sql)
  } finally {
    await client.end()
  }
}

export async function createBenchDatabase(kind: BenchDb): Promise<BenchDatabaseSpec> {
  const dir = mkdtempSync(join(tmpdir(), 'kronus-bench-'))
  if (kind === 'sqlcipher') return { kind, dir }
  const schema = `kb_${randomBytes(8).toString('hex')}`
  await adminQuery(`CREATE SCHEMA ${quoted(schema)}`)
  return { kind, dir, schema, url: benchDatabaseUrl() }
}

export async function removeBenchDatabase(spec: BenchDatabaseSpec): Promise<void> {
  rmSync(spec.dir, { recursive: true, force: true })
  // The queue benchmark runs pg-boss in a schema of its own next to Kronus's.
  if (spec.schema)
    await adminQuery(`DROP SCHEMA IF EXISTS ${quoted(spec.schema)}, ${quoted(`${spec.schema}_boss`)} CASCADE`)
}

/** The `database` section of a Kronus configuration for this spec. */
export function databaseConfig(spec: BenchDatabaseSpec): NonNullable<KronusConfigInput['database']> {
  return spec.kind === 'postgres'
    ? { client: 'postgres', connection: spec.url! }
    : { client: 'sqlcipher', filename: join(spec.dir, 'kronus.db') }
}

/** Bytes on disk: the SQLCipher file with its WAL, or every relation (with indexes and TOAST) in the schema. */
export async function databaseBytes(spec: BenchDatabaseSpec, knex: Knex): Promise<number> {
  if (spec.kind === 'sqlcipher') {
    const base = join(spec.dir, 'kronus.db')
    let total = 0
    for (const file of [base, `${base}-wal`, `${base}-shm`]) {
      try {
        total += statSync(file).size
      } catch {
        // No WAL after a checkpoint on close is normal.
      }
    }
    return total
  }
  const result = await knex.raw(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ? AND c.relkind IN ('r', 'm')`,
    [spec.schema!]
  )
  return Number(result.rows[0].bytes)
}
