import type { Knex } from 'knex'
import { pageOfRows } from '../db/paging.js'
import { NotFoundError } from '../domain/errors.js'
import type { Page } from '../domain/paging.js'
import type { AlarmTrigger } from '../events/types.js'
import { toRfc3339 } from '../util/time.js'
import type { ServiceContext } from './context.js'
import type { EscalationMode } from './escalation.js'

/*
 * Alarms as the REST API shows them: read-only views of the alarm engine's tables
 * (migration 0013). The engine writes them; nothing here changes an alarm.
 */

/** What raises an alarm (AlarmTrigger in src/events/types.ts). */
export const ALARM_TRIGGERS = [
  'said_no',
  'distress',
  'no_answer',
  'panic',
  'unreachable',
  'duress'
] as const satisfies readonly AlarmTrigger[]

export const ALARM_STATUSES = ['open', 'acknowledged', 'resolved'] as const
export type AlarmStatus = (typeof ALARM_STATUSES)[number]

export const ALARM_CONTACT_STATES = [
  'waiting',
  'queued',
  'sent',
  'delivered',
  'undelivered',
  'acknowledged',
  'called'
] as const

/** One contact's part in an alarm, with the name and number copied when it was raised. */
export interface AlarmContactView {
  id: number
  contact_id: number | null
  name: string
  phone_number: string
  position: number
  state: string
  error_code: number | null
  error: string | null
  texts_sent: number
  calls_placed: number
  alerted_at: string | null
  acknowledged_at: string | null
  updated_at: string
}

export interface AlarmTimelineView {
  id: number
  kind: string
  alarm_contact_id: number | null
  detail: string | null
  created_at: string
}

export interface AlarmView {
  id: number
  user: { id: number; name: string; phone_number: string }
  trigger: string
  quote: string | null
  code: string
  status: string
  probe_id: number | null
  escalation: { mode: EscalationMode; step_minutes: number; repeats: number; voice_calls: boolean }
  step: number
  repeats_sent: number
  exhausted_at: string | null
  acknowledged_by: { alarm_contact_id: number | null; contact_id: number | null; name: string | null } | null
  acknowledged_at: string | null
  resolved_reason: string | null
  resolved_by: string | null
  resolved_at: string | null
  created_at: string
  updated_at: string
  contacts: AlarmContactView[]
  timeline: AlarmTimelineView[]
}

type Row = Record<string, any>

const num = (value: unknown): number => Number(value)
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
const time = (value: unknown): string | null =>
  value === null || value === undefined ? null : toRfc3339(Number(value))

function contactView(row: Row): AlarmContactView {
  return {
    id: num(row.id),
    contact_id: numOrNull(row.contact_id),
    name: row.name,
    phone_number: row.phone_number,
    position: num(row.position),
    state: row.state,
    error_code: numOrNull(row.error_code),
    error: row.error ?? null,
    texts_sent: num(row.texts_sent),
    calls_placed: num(row.calls_placed),
    alerted_at: time(row.alerted_at),
    acknowledged_at: time(row.acknowledged_at),
    updated_at: time(row.updated_at)!
  }
}

function timelineView(row: Row): AlarmTimelineView {
  return {
    id: num(row.id),
    kind: row.kind,
    alarm_contact_id: numOrNull(row.alarm_contact_id),
    detail: row.detail ?? null,
    created_at: time(row.created_at)!
  }
}

/**
 * Who acknowledged: `alarms.acknowledged_by` names the alarm contact (alarm_contacts.id) who
 * did; an id that is no alarm contact of this alarm is read as the contact's id
 * (contacts.id), and shown without a name when neither matches.
 */
function acknowledgerOf(row: Row, contacts: AlarmContactView[]): AlarmView['acknowledged_by'] {
  const by = numOrNull(row.acknowledged_by)
  if (by === null) return null
  const who = contacts.find((c) => c.id === by) ?? contacts.find((c) => c.contact_id === by)
  if (!who) return { alarm_contact_id: null, contact_id: by, name: null }
  return { alarm_contact_id: who.id, contact_id: who.contact_id, name: who.name }
}

export class AlarmQueryService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * A user's alarms, newest first. Alarms outlive their user (they are snapshots, and one
   * raised just before a deletion still goes out), so a deleted user's id still lists them;
   * an id that is no user and has no alarm is a 404. `hideDuress` leaves out duress
   * alarms: a user reading their own list (someone may be making them) never sees one;
   * administrators do.
   */
  async listForUser(
    userId: number,
    status: AlarmStatus | undefined,
    page: number,
    trx?: Knex.Transaction,
    hideDuress = false
  ): Promise<Page<AlarmView>> {
    const db = trx ?? this.ctx.knex
    const exists =
      (await db('users').where({ id: userId }).first('id')) ??
      (await db('alarms').where({ user_id: userId }).first('id'))
    if (!exists) throw new NotFoundError(`user ${userId} not found`)
    const query = db('alarms').where({ user_id: userId })
    if (status) query.where({ status })
    if (hideDuress) query.whereNot({ trigger: 'duress' })
    return this.#page(db, query, page)
  }

  /** One alarm as the lists show it; 404 when there is none. */
  async find(alarmId: number, trx?: Knex.Transaction): Promise<AlarmView> {
    const db = trx ?? this.ctx.knex
    const [alarm] = (await this.#page(db, db('alarms').where({ id: alarmId }), 1)).results
    if (!alarm) throw new NotFoundError(`alarm ${alarmId} not found`)
    return alarm
  }

  /** Every user's alarms, newest first, optionally of one status (admin). */
  async list(status: AlarmStatus | undefined, page: number, trx?: Knex.Transaction): Promise<Page<AlarmView>> {
    const db = trx ?? this.ctx.knex
    const query = db('alarms')
    if (status) query.where({ status })
    return this.#page(db, query, page)
  }

  async #page(db: Knex | Knex.Transaction, query: Knex.QueryBuilder, page: number): Promise<Page<AlarmView>> {
    const result = await pageOfRows(query, page, (row: Row) => row, [{ column: 'id', order: 'desc' }])
    const ids = result.results.map((row) => num(row.id))
    const contacts = new Map<number, AlarmContactView[]>()
    const timeline = new Map<number, AlarmTimelineView[]>()
    for (const id of ids) {
      contacts.set(id, [])
      timeline.set(id, [])
    }
    if (ids.length > 0) {
      const contactRows = (await db('alarm_contacts')
        .whereIn('alarm_id', ids)
        .orderBy([{ column: 'alarm_id' }, { column: 'position' }, { column: 'id' }])) as Row[]
      for (const row of contactRows) contacts.get(num(row.alarm_id))!.push(contactView(row))
      const timelineRows = (await db('alarm_timeline')
        .whereIn('alarm_id', ids)
        .orderBy([{ column: 'alarm_id' }, { column: 'id' }])) as Row[]
      for (const row of timelineRows) timeline.get(num(row.alarm_id))!.push(timelineView(row))
    }
    return {
      paging: result.paging,
      results: result.results.map((row) => {
        const id = num(row.id)
        const its = contacts.get(id)!
        return {
          id,
          user: { id: num(row.user_id), name: row.user_name, phone_number: row.user_phone },
          trigger: row.trigger,
          quote: row.quote ?? null,
          code: row.code,
          status: row.status,
          probe_id: numOrNull(row.probe_id),
          escalation: {
            mode: row.mode,
            step_minutes: num(row.step_minutes),
            repeats: num(row.repeats),
            voice_calls: Boolean(row.voice_calls)
          },
          step: num(row.step),
          repeats_sent: num(row.repeats_sent),
          exhausted_at: time(row.exhausted_at),
          acknowledged_by: acknowledgerOf(row, its),
          acknowledged_at: time(row.acknowledged_at),
          resolved_reason: row.resolved_reason ?? null,
          resolved_by: row.resolved_by ?? null,
          resolved_at: time(row.resolved_at),
          created_at: time(row.created_at)!,
          updated_at: time(row.updated_at)!,
          contacts: its,
          timeline: timeline.get(id)!
        }
      })
    }
  }
}
