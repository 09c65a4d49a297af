import { randomBytes } from 'node:crypto'
import { rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { Knex } from 'knex'
import { isPostgres, PRIVATE_FILE_MODE } from 'kronus'

export interface Snapshot {
  file: string
  bytes: number
}

/**
 * Writes a consistent copy of the live database to `destFile` while Kronus keeps running.
 *
 * VACUUM INTO runs as one read transaction on knex's single connection, so it sees exactly
 * the commits made before it started, and writes queued behind it wait rather than tear it.
 * Under SQLCipher 4 the output is encrypted with the live database's key (the tests prove
 * it), so no plaintext copy of the data ever touches the disk. Copying the live files
 * instead could pair a main file with a WAL from a different moment.
 */
export async function takeSnapshot(knex: Knex, destFile: string): Promise<Snapshot> {
  if (isPostgres(knex)) {
    throw new Error('database snapshots need the sqlcipher database; back PostgreSQL up with its own tools')
  }
  const file = resolve(destFile)
  if (await exists(file)) throw new Error(`cannot write snapshot to ${file}: the file already exists`)
  // Written beside the destination and renamed, so a failed snapshot never leaves a
  // half-written file under the name a caller would upload or restore.
  const partial = join(dirname(file), `.${basename(file)}.partial-${randomBytes(6).toString('hex')}`)
  try {
    // VACUUM INTO fills an empty file it is given and keeps its mode: the copy is 0600 from the start.
    await writeFile(partial, '', { flag: 'wx', mode: PRIVATE_FILE_MODE })
    await knex.raw('VACUUM INTO ?', [partial])
    await rename(partial, file)
  } catch (err) {
    await rm(partial, { force: true })
    throw err
  }
  return { file, bytes: (await stat(file)).size }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
