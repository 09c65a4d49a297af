import type { Knex } from 'knex'
import { chunks } from '../db/chunks.js'
import type { ProbeStatusName } from '../domain/constants.js'
import type { Aliveness } from '../events/types.js'

const OUTCOMES = ['good', 'bad', 'unavailable'] as const

/**
 * A user's aliveness is the outcome of their last probe that had one; a cancelled probe
 * says nothing about them, so it leaves the previous state as it was. For many users at
 * once: the last outcome of each (along probe_status_changes' (user_id, id) index), in
 * two statements per few hundred users; a user with none is `unknown`.
 */
export async function currentAliveness(trx: Knex.Transaction, userIds: number[]): Promise<Map<number, Aliveness>> {
  const byUser = new Map<number, Aliveness>()
  for (const ids of chunks([...new Set(userIds)])) {
    const last: Array<{ id: number | string }> = await trx('probe_status_changes')
      .max({ id: 'id' })
      .whereIn('user_id', ids)
      .whereIn('to_status', OUTCOMES)
      .groupBy('user_id')
    if (last.length === 0) continue
    const rows: Array<{ user_id: number | string; to_status: string }> = await trx('probe_status_changes')
      .select('user_id', 'to_status')
      .whereIn(
        'id',
        last.map((row) => Number(row.id))
      )
    for (const row of rows) byUser.set(Number(row.user_id), row.to_status as Aliveness)
  }
  return new Map(userIds.map((userId) => [userId, byUser.get(userId) ?? 'unknown']))
}

export function alivenessAfter(status: Exclude<ProbeStatusName, 'pending'>, before: Aliveness): Aliveness {
  return status === 'cancelled' ? before : status
}
