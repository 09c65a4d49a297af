import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import { PROBE_STATUS_ID, type ProbeStatusName } from '../domain/constants.js'
import type { AlarmTrigger } from '../events/types.js'
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
  /** Runs after the change won and before its events are recorded, in the same transaction. */
  beforeEvents?: () => Promise<void>
  /** For `bad`: what raised it (default said_no) and the person's words to quote. */
  alarm?: { trigger: AlarmTrigger; quote: string | null; answeringUser?: boolean }
  /** Hears the alarm the change raised (what to answer the user with, for one). */
  onRaised?: (raised: { alarmId: number | null; userText: string | null }) => void
}

/** Reasons are stored in a 255-character column. */
function clip(reason: string): string {
  return reason.length <= 255 ? reason : `${reason.slice(0, 254)}…`
}

/**
 * The only way a probe leaves `pending`. The update is conditional on the probe still
 * being pending, so of two racing changes (a "Y" and an "N", a reply and the expiry
 * timer) exactly one changes a row; the other returns false and writes nothing. The
 * winner writes its flip row and events in the caller's transaction, so a change is
 * never visible without them.
 */
export async function changeProbeStatus(
  deps: { clock: Clock; events: ProbeEventLog; alarms: AlarmRaiser },
  trx: Knex.Transaction,
  change: StatusChange
): Promise<boolean> {
  const now = deps.clock.now()
  const reason = clip(change.reason)
  const changed = await trx('probes')
    .where({ id: change.probeId, probe_status_id: PROBE_STATUS_ID.pending })
    .update({ ...change.fields, probe_status_id: PROBE_STATUS_ID[change.to], pending_user_id: null, updated_at: now })
  if (changed !== 1) return false

  const before = await currentAliveness(trx, change.userId)
  await trx('probe_status_changes').insert({
    probe_id: change.probeId,
    user_id: change.userId,
    from_status: 'pending',
    to_status: change.to,
    reason,
    created_at: now
  })
  await change.beforeEvents?.()
  const { userId, probeId, to } = change
  await deps.events.record(trx, 'probe.status_changed', { userId, probeId, from: 'pending', to, reason })
  // Only a real change: subscribers (webhooks, dashboards) act on transitions, and each
  // probe's own outcome is already in probe.status_changed.
  const after = alivenessAfter(to, before)
  if (after !== before)
    await deps.events.record(trx, 'user.aliveness_changed', { userId, from: before, to: after, probeId })
  if (to === 'bad' || to === 'unavailable') {
    // Kept for subscribers of the first Kronus's event (webhooks); the alarm itself is
    // raised here, in the change's transaction, so a "no" and its alerts commit together.
    await deps.events.record(trx, 'emergency.triggered', { userId, probeId, status: to })
    const raised = await deps.alarms.raise(trx, {
      userId,
      probeId,
      trigger: to === 'unavailable' ? 'no_answer' : (change.alarm?.trigger ?? 'said_no'),
      quote: to === 'bad' ? (change.alarm?.quote ?? null) : null,
      answeringUser: change.alarm?.answeringUser ?? false
    })
    change.onRaised?.(raised)
  }
  return true
}
