import type { Knex } from 'knex'
import { assertSqlcipherKey, createKnex, type DatabaseOptions } from './knex.js'

/**
 * Opens the configured database as it is, without migrating it. SQLCipher's passphrase is
 * checked on a connection of its own first, so a wrong one fails with a clear message
 * before knex's pool retries it. The caller destroys the result.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Knex> {
  if (options.client === 'sqlcipher') {
    if (options.filename === undefined || options.passPhrase === undefined)
      throw new Error('openDatabase: SQLCipher needs a filename and a passphrase')
    await assertSqlcipherKey(options.filename, options.passPhrase)
  }
  return createKnex(options)
}
