import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { createKronus, type Kronus } from '../../src/app.js'
import { FakeClock } from '../../src/clock.js'
import { resolveConfig } from '../../src/config/resolve.js'
import type { KronusConfigInput } from '../../src/config/types.js'
import { leaseSchema, schemaForDir, type TestDatabase, testDatabase, testKronusDatabaseUrl } from './db.js'
import { testPrivateKeyPem } from './keys.js'

export interface TestKronus extends Kronus {
  clock: FakeClock
  dir: string
}

export interface TestKronusOptions {
  /** Reuse a data folder (to test restarts); a fresh temp folder otherwise. */
  dir?: string
  config?: KronusConfigInput
  clock?: FakeClock
  /** The database to run on; KRONUS_TEST_DB (sqlcipher unless set) when omitted. */
  database?: TestDatabase
  /**
   * Serve /documentation and /swagger.json. Off unless a test reads them: hapi-swagger is
   * the slowest part of a build, and the reference is tested where it is turned on.
   */
  documentation?: boolean
  /** Where Kronus logs; silent unless a test reads the log (e.g. that a secret is never in it). */
  logger?: Logger
}

/**
 * The SQLCipher key of test databases: a raw 256-bit key (x'...' in hex) where a
 * configuration has a passphrase, so that opening a database skips the passphrase's key
 * derivation (PBKDF2: about 150 ms of CPU per open, the costliest part of a build). The
 * file is encrypted all the same; test/db/knex.test.ts and the CLI tests open databases
 * with passphrases, as configurations do.
 */
export const TEST_SQLCIPHER_KEY = `x'${'5e'.repeat(32)}'`

interface Tap {
  teardown(fn: () => unknown): void
}

/**
 * A Kronus on a fresh encrypted database in a temp folder, with a fake clock and silent
 * logs. It is stopped and its folder removed when the test ends. On PostgreSQL the
 * database is a schema named after the folder, so reusing `dir` reopens the same data
 * (and two instances built on one `dir` share it); it is dropped after the last of them.
 */
export async function buildKronus(t: Tap, options: TestKronusOptions = {}): Promise<TestKronus> {
  const database = options.database ?? testDatabase()
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kronus-test-'))
  const clock = options.clock ?? new FakeClock()
  const input = options.config ?? {}
  const config = resolveConfig({
    ...input,
    dataDir: dir,
    kronus: {
      ...input.kronus,
      privateKeyPem: input.kronus?.privateKeyPem ?? testPrivateKeyPem(),
      sqlite: { passPhrase: input.kronus?.sqlite?.passPhrase ?? TEST_SQLCIPHER_KEY },
      // Tests check every response against its documented schema.
      listener: { port: 0, host: '127.0.0.1', responseValidationPercent: 100, ...input.kronus?.listener }
    },
    logging: { level: 'silent', ...input.logging },
    ...(database === 'postgres' ? { database: { client: 'postgres', connection: testKronusDatabaseUrl() } } : {})
  })
  const schema = database === 'postgres' ? schemaForDir(dir) : undefined
  const releaseSchema = schema ? await leaseSchema(schema) : async () => undefined
  let kronus: Kronus
  try {
    kronus = await createKronus({
      config,
      clock,
      logger: options.logger ?? pino({ level: 'silent' }),
      searchPath: schema,
      documentation: options.documentation ?? false
    })
  } catch (err) {
    await releaseSchema()
    throw err
  }
  t.teardown(async () => {
    try {
      await kronus.stop()
    } finally {
      await releaseSchema()
      if (!options.dir) rmSync(dir, { recursive: true, force: true })
    }
  })
  return Object.assign(kronus, { clock, dir })
}
