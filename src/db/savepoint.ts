import type { Knex } from 'knex'

let savepoints = 0

/**
 * Runs `fn` on `trx` inside a savepoint: if it throws, what it wrote is rolled back and
 * `trx` stays usable (a failed statement would otherwise abort a PostgreSQL transaction).
 *
 * knex's own `trx.transaction()` does the same with the same statements, but builds a whole
 * knex object per savepoint (about 60 KB that outlives the young generation); on the paths
 * that record every event of a fan-out that garbage was most of the peak's old space. `fn`
 * gets `trx` itself, so it must not run other work on `trx` concurrently with its own.
 */
export async function inSavepoint<T>(trx: Knex.Transaction, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  savepoints = (savepoints + 1) % Number.MAX_SAFE_INTEGER
  const name = `kronus_savepoint_${savepoints}`
  await trx.raw(`SAVEPOINT ${name}`)
  let result: T
  try {
    result = await fn(trx)
  } catch (err) {
    await trx.raw(`ROLLBACK TO SAVEPOINT ${name}`)
    await trx.raw(`RELEASE SAVEPOINT ${name}`)
    throw err
  }
  await trx.raw(`RELEASE SAVEPOINT ${name}`)
  return result
}
