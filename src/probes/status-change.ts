import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import { PROBE_STATUS_ID, type ProbeStatusName } from '../domain/constants.js'
import type { AlarmTrigger, Aliveness, NewEvent } from '../events/types.js'
import { alivenessAfter, currentAliveness } from './aliveness.js'
import type { AlarmRaiser, ProbeEventLog } from './ports.js'

export type FinalStatus = Exclude<ProbeStatusName, 'pending'>

export interface StatusChange {
  probeId: number
  userId: number
  to: FinalStatus
  /** Why, in words; kept on the flip row and in the event. */
  reason: string
  /** Other columns written by the same conditional update (e.g. last_response). */
  fields?: Record<string, unknown>
  /** Only if the probe is still at this retry count too (a follow-up timer's own retry). */
  atRetry?: number
  /** Events recorded with the change's own and before them, only if it wins (the reply that made it). */
  precedingEvents?: NewEvent[]
  /** For `bad`: what raised it (default said_no) and the person's words to quote. */
  alarm?: { trigger: AlarmTrigger; quote: string | null; answeringUser?: boolean }
  /** Hears the alarm the change raised (what to answer the user with, for one). */
  onRaised?: (raised: { alarmId: number | null; userText: string | null }) => void
}

type StatusChangeDeps = { clock: Clock; events: ProbeEventLog; alarms: AlarmRaiser }

/** Reasons are stored in a 255-character column. */
function clip(reason: string): string {
  return reason.length <= 255 ? reason : `${reason.slice(0, 254)}…`
}

/**
 * The only way a probe leaves `pending`: changeProbeStatuses with one change. The update
 * is conditional on the probe still being pending, so of two racing changes (a "Y" and an
 * "N", a reply and the expiry timer) exactly one changes a row; the other returns false
 * and writes nothing. The winner writes its flip row and events in the caller's
 * transaction, so a change is never visible without them.
 */
export async function changeProbeStatus(
  deps: StatusChangeDeps,
  trx: Knex.Transaction,
  change: StatusChange
): Promise<boolean> {
  const [won] = await changeProbeStatuses(deps, trx, [change])
  return won!
}

/**
 * Many probes leave `pending` at once (a batch of timers that ran out): the same rules as
 * one change, in a few multi-row statements. The probes move by one conditional
 * `UPDATE … WHERE id IN (…) AND status = pending [AND retry_count = …] RETURNING id` per
 * few hundred changes of the same status, columns and retry, so a probe answered meanwhile is left to its answer; the
 * flip rows of the winners are one insert, their events one more (recordEach), and
 * then the alarm of each winning bad or unavailable change is raised, one probe at a
 * time, in this transaction, exactly as for a single change. A probe named twice is
 * changed by its first change only. Returns, per change, whether it won.
 *
 * Events keep each user's order (reply, status change, aliveness, emergency, alarm);
 * across users of one batch they are grouped by type.
 */
export async function changeProbeStatuses(
  deps: StatusChangeDeps,
  trx: Knex.Transaction,
  changes: StatusChange[]
): Promise<boolean[]> {
  const now = deps.clock.now()
  const won = await updatePending(trx, changes, now)
  const winners = changes.filter((_, i) => won[i])
  if (winners.length === 0) return won

  // Each winner's aliveness before it, in order: a user changed twice sees the first change.
  const aliveness = await currentAliveness(
    trx,
    winners.map((c) => c.userId)
  )
  const transitions = winners.map((change) => {
    const before = aliveness.get(change.userId) as Aliveness
    const after = alivenessAfter(change.to, before)
    aliveness.set(change.userId, after)
    return { change, reason: clip(change.reason), before, after }
  })
  for (const part of chunks(transitions)) {
    await trx('probe_status_changes').insert(
      part.map(({ change, reason }) => ({
        probe_id: change.probeId,
        user_id: change.userId,
        from_status: 'pending',
        to_status: change.to,
        reason,
        created_at: now
      }))
    )
  }
  const alarming = winners.filter((c) => c.to === 'bad' || c.to === 'unavailable')
  // One insert for all of them. Grouped by type, as the changes came: the replies, the
  // status changes, the aliveness changes, then the emergencies.
  await deps.events.recordEach(trx, [
    ...transitions.flatMap(({ change }) => change.precedingEvents ?? []),
    ...transitions.map(({ change: { userId, probeId, to }, reason }) => ({
      type: 'probe.status_changed' as const,
      payload: { userId, probeId, from: 'pending' as const, to, reason }
    })),
    // Only a real change: subscribers (webhooks, dashboards) act on transitions, and each
    // probe's own outcome is already in probe.status_changed.
    ...transitions
      .filter(({ before, after }) => before !== after)
      .map(({ change: { userId, probeId }, before, after }) => ({
        type: 'user.aliveness_changed' as const,
        payload: { userId, from: before, to: after, probeId }
      })),
    // Kept for subscribers of the first Kronus's event (webhooks); the alarm itself is
    // raised here, in the change's transaction, so a "no" and its alerts commit together.
    ...alarming.map(({ userId, probeId, to }) => ({
      type: 'emergency.triggered' as const,
      payload: { userId, probeId, status: to as 'bad' | 'unavailable' }
    }))
  ])
  for (const change of alarming) {
    const { userId, probeId, to } = change
    const raised = await deps.alarms.raise(trx, {
      userId,
      probeId,
      trigger: to === 'unavailable' ? 'no_answer' : (change.alarm?.trigger ?? 'said_no'),
      quote: to === 'bad' ? (change.alarm?.quote ?? null) : null,
      answeringUser: change.alarm?.answeringUser ?? false
    })
    change.onRaised?.(raised)
  }
  return won
}

/**
 * The conditional updates: one per few hundred changes that write the same status and
 * columns, each returning the ids it moved. Returns, per change, whether its probe moved.
 */
async function updatePending(trx: Knex.Transaction, changes: StatusChange[], now: number): Promise<boolean[]> {
  const firstOfProbe = new Map<number, number>()
  const groups = new Map<string, number[]>()
  changes.forEach((change, i) => {
    if (firstOfProbe.has(change.probeId)) return
    firstOfProbe.set(change.probeId, i)
    const key = JSON.stringify([change.to, change.fields ?? {}, change.atRetry ?? null])
    const group = groups.get(key)
    if (group) group.push(i)
    else groups.set(key, [i])
  })
  const moved = new Set<number>()
  for (const indexes of groups.values()) {
    const { to, fields, atRetry } = changes[indexes[0]!]!
    for (const part of chunks(indexes)) {
      const query = trx('probes')
        .whereIn(
          'id',
          part.map((i) => changes[i]!.probeId)
        )
        .where({ probe_status_id: PROBE_STATUS_ID.pending })
      if (atRetry !== undefined) query.where({ retry_count: atRetry })
      const rows: Array<{ id: number | string } | number | string> = await query
        .update({ ...fields, probe_status_id: PROBE_STATUS_ID[to], pending_user_id: null, updated_at: now })
        .returning('id')
      for (const row of rows) moved.add(Number(typeof row === 'object' ? row.id : row))
    }
  }
  return changes.map((change, i) => firstOfProbe.get(change.probeId) === i && moved.has(change.probeId))
}
