import type { Knex } from 'knex'
import type { KronusConfig } from '../config/types.js'
import { assertSqlcipherKey, createKnex } from './knex.js'

/**
 * Opens the configured database as it is, without migrating it. SQLCipher's passphrase is
 * checked on a connection of its own first, so a wrong one fails with a clear message
 * before knex's pool retries it. The caller destroys the result.
 */
export async function openDatabase(config: Pick<KronusConfig, 'database' | 'kronus'>, searchPath?: string): Promise<Knex> {
  const { database } = config
  if (database.client === 'sqlcipher') await assertSqlcipherKey(database.filename, config.kronus.sqlite.passPhrase)
  return createKnex({
    client: database.client,
    filename: database.filename,
    passPhrase: config.kronus.sqlite.passPhrase,
    connection: database.connection,
    searchPath
  })
}
