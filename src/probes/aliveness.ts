import type { Knex } from 'knex'
import type { ProbeStatusName } from '../domain/constants.js'
import type { Aliveness } from '../events/types.js'

const OUTCOMES = ['good', 'bad', 'unavailable'] as const

/**
 * A user's aliveness is the outcome of their last probe that had one; a cancelled probe
 * says nothing about them, so it leaves the previous state as it was.
 */
export async function currentAliveness(trx: Knex.Transaction, userId: number): Promise<Aliveness> {
  const last = await trx('probe_status_changes')
    .where({ user_id: userId })
    .whereIn('to_status', OUTCOMES)
    .orderBy('id', 'desc')
    .first('to_status')
  return (last?.to_status as Aliveness | undefined) ?? 'unknown'
}

export function alivenessAfter(status: Exclude<ProbeStatusName, 'pending'>, before: Aliveness): Aliveness {
  return status === 'cancelled' ? before : status
}
