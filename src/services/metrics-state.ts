import type { Knex } from 'knex'
import { PROBE_STATUS_ID, PROBE_STATUS_NAMES, type ProbeStatusName } from '../domain/constants.js'
import { ALARM_TRIGGERS } from './alarms-read.js'

/*
 * What GET /metrics reads from the database at each scrape: the state every instance on
 * one PostgreSQL database shares, so each instance reports the same numbers. Each is one
 * query along an index that reads only what is counted, whatever the number of users or
 * the length of the history.
 */

/** Check-ins are counted over this window: `probes` keeps every check-in ever made. */
export const CHECKIN_WINDOW_MS = 24 * 3600_000

/**
 * Check-ins started in the last 24 hours by their status now, every status present.
 * Along probes (probe_status_id, created_at) (migration 0022): one range of the day's
 * entries per status, named so the planner takes that index.
 */
export async function checkInsByStatus(knex: Knex, now: number): Promise<Record<ProbeStatusName, number>> {
  const rows = (await knex('probes')
    .select('probe_status_id')
    .count({ n: '*' })
    .whereIn('probe_status_id', Object.values(PROBE_STATUS_ID))
    .where('created_at', '>=', now - CHECKIN_WINDOW_MS)
    .groupBy('probe_status_id')) as Array<{ probe_status_id: number | string; n: number | string }>
  const counts = Object.fromEntries(PROBE_STATUS_NAMES.map((name) => [name, 0])) as Record<ProbeStatusName, number>
  for (const row of rows) {
    const name = PROBE_STATUS_NAMES.find((s) => PROBE_STATUS_ID[s] === Number(row.probe_status_id))
    if (name) counts[name] = Number(row.n)
  }
  return counts
}

/**
 * open: nobody has acknowledged it and escalation goes on; exhausted: nobody has
 * acknowledged it and every step and reminder is spent; acknowledged: a contact
 * answered, and it waits for the user's OK or an admin.
 */
export const UNRESOLVED_ALARM_STATES = ['open', 'exhausted', 'acknowledged'] as const
export type UnresolvedAlarmState = (typeof UNRESOLVED_ALARM_STATES)[number]

export interface AlarmCount {
  trigger: (typeof ALARM_TRIGGERS)[number]
  state: UnresolvedAlarmState
  count: number
}

/**
 * Unresolved alarms by trigger and state, every pair present (zero when none). Along
 * alarms (status, id): resolved alarms, the whole history, are never read.
 */
export async function unresolvedAlarms(knex: Knex): Promise<AlarmCount[]> {
  const exhausted = knex.raw('CASE WHEN exhausted_at IS NULL THEN 0 ELSE 1 END')
  const rows = (await knex('alarms')
    .select('trigger', 'status', knex.raw('CASE WHEN exhausted_at IS NULL THEN 0 ELSE 1 END AS exhausted'))
    .count({ n: '*' })
    .whereIn('status', ['open', 'acknowledged'])
    .groupBy('trigger', 'status', exhausted)) as Array<{
    trigger: string
    status: string
    exhausted: number | string
    n: number | string
  }>
  const counts = new Map<string, number>()
  for (const row of rows) {
    const state: UnresolvedAlarmState =
      row.status === 'acknowledged' ? 'acknowledged' : Number(row.exhausted) === 1 ? 'exhausted' : 'open'
    const key = `${row.trigger}\u0000${state}`
    counts.set(key, (counts.get(key) ?? 0) + Number(row.n))
  }
  return ALARM_TRIGGERS.flatMap((trigger) =>
    UNRESOLVED_ALARM_STATES.map((state) => ({ trigger, state, count: counts.get(`${trigger}\u0000${state}`) ?? 0 }))
  )
}
