import type { Knex } from 'knex'

interface Transactor {
  executionPromise?: Promise<unknown>
  parentTransaction?: Transactor
}

/**
 * Resolves when the outermost transaction that `trx` belongs to commits, and never when it
 * rolls back. A savepoint's own promise resolves at release, which is not a commit yet.
 */
export function afterCommit(trx: Knex.Transaction): Promise<boolean> {
  let root = trx as unknown as Transactor
  while (root.parentTransaction) root = root.parentTransaction
  const done = root.executionPromise
  if (!done) return Promise.resolve(true)
  return done.then(
    () => true,
    () => false
  )
}
