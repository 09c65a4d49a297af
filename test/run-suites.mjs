#!/usr/bin/env node
// `npm test`: the whole suite once on SQLCipher and once on PostgreSQL (KRONUS_TEST_DB),
// each pass leaving out the files package.json's "kronusTests" lists for it, with the
// reason. Each pass prints tap's own summary line; the exit code fails if either failed.
// `--database=<sqlcipher|postgres>` runs one pass; other arguments go to tap.
// Coverage is measured here (a single `npx tap FILE` leaves it off): a whole pass must reach
// the thresholds in package.json's "tap" settings; a run of chosen files only reports it.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { kronusTests } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const DATABASES = ['sqlcipher', 'postgres']

const only = process.argv
  .slice(2)
  .find((a) => a.startsWith('--database='))
  ?.slice('--database='.length)
if (only !== undefined && !DATABASES.includes(only)) {
  console.error(`--database must be one of ${DATABASES.join(', ')}`)
  process.exit(2)
}
const tapArgs = process.argv.slice(2).filter((a) => !a.startsWith('--database='))
const tapBin = join(root, 'node_modules', '.bin', 'tap')
const coverageArgs = ['--no-disable-coverage', ...(tapArgs.length > 0 ? ['--allow-incomplete-coverage'] : [])]
// tsx writes the TypeScript source into its source maps only when NODE_V8_COVERAGE is set;
// without it tap maps each file's coverage onto tsx's few long output lines and reports
// 100% for every file loaded. Node's own copies of the coverage land here and are thrown away.
const v8Scratch = join(root, '.tap', 'v8-scratch')
const TEST_DIR = join(root, 'test')
const DATABASE_HELPER = join(TEST_DIR, 'helpers', 'db.ts')

/**
 * Tests drop their schemas at teardown; a test process that was killed cannot. Schemas
 * marked by test/helpers/db.ts and older than any run are dropped here. A server that
 * cannot be reached is left for the postgres pass to report.
 */
async function dropStaleTestSchemas() {
  const { default: pg } = await import('pg')
  const client = new pg.Client({
    connectionString: process.env.KRONUS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  })
  try {
    await client.connect()
    const { rows } = await client.query(
      `SELECT nspname, obj_description(oid, 'pg_namespace') AS note FROM pg_namespace WHERE nspname LIKE 'kt\\_%' AND obj_description(oid, 'pg_namespace') LIKE 'kronus test schema, created at %'`
    )
    const cutoff = Date.now() - 6 * 3600_000
    for (const { nspname, note } of rows) {
      if (Number(note.slice(note.lastIndexOf(' ') + 1)) < cutoff)
        await client.query(`DROP SCHEMA IF EXISTS "${nspname}" CASCADE`)
    }
  } catch (err) {
    console.log(`# could not clean up old test schemas: ${err.message}`)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Whether `file`, or a test file it imports, reaches the one place the database is chosen. */
function usesTestDatabase(file, seen = new Set()) {
  if (seen.has(file)) return false
  seen.add(file)
  if (file === DATABASE_HELPER) return true
  const text = readFileSync(file, 'utf8')
  if (text.includes('KRONUS_TEST_DB')) return true
  for (const [, specifier] of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const imported = resolve(dirname(file), specifier).replace(/\.js$/, '.ts')
    if (imported.startsWith(TEST_DIR) && existsSync(imported) && usesTestDatabase(imported, seen)) return true
  }
  return false
}

/**
 * The test files that never reach test/helpers/db.ts, where KRONUS_TEST_DB is read (the
 * CLI, configuration, parsers, type checks...): they do the same thing in both passes, so
 * when both passes run they run in the first only.
 */
function databaseIndependentTests() {
  return readdirSync(TEST_DIR, { recursive: true })
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join(TEST_DIR, name))
    .filter((file) => !usesTestDatabase(file))
    .map((file) => relative(root, file))
    .sort()
}

/** Whether `file` matches an exclude pattern of package.json (`*` within a folder, `**` across them). */
function matchesPattern(file, pattern) {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*/g, '\0')
    .replace(/\*/g, '[^/]*')
    .replace(/\0/g, '.*')
  return new RegExp(`^${source}$`).test(file)
}

let failed = false
const passes = only ? [only] : DATABASES
for (const database of passes) {
  const excluded = { ...(kronusTests?.[database]?.exclude ?? {}) }
  if (database !== passes[0]) {
    const leftOutOfFirst = Object.keys(kronusTests?.[passes[0]]?.exclude ?? {})
    for (const file of databaseIndependentTests()) {
      if (!leftOutOfFirst.some((pattern) => matchesPattern(file, pattern)))
        excluded[file] = `does not use the database: ran in the ${passes[0]} pass`
    }
  }
  if (database === 'postgres') await dropStaleTestSchemas()
  console.log(`# Kronus test pass: ${database}`)
  for (const [pattern, reason] of Object.entries(excluded)) console.log(`#   not in this pass: ${pattern} (${reason})`)
  const result = spawnSync(
    tapBin,
    [...Object.keys(excluded).flatMap((p) => ['--exclude', p]), ...coverageArgs, ...tapArgs],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, KRONUS_TEST_DB: database, NODE_V8_COVERAGE: v8Scratch }
    }
  )
  rmSync(v8Scratch, { recursive: true, force: true })
  if (result.status !== 0) {
    failed = true
    console.log(`# Kronus test pass ${database} failed (exit ${result.status ?? result.signal})`)
  }
}
process.exit(failed ? 1 : 0)
