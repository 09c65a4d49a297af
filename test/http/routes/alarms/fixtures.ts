import type Joi from 'joi'
import type { Knex } from 'knex'
import type { TestKronus } from '../../../helpers/app.js'
import type { ApiResponse } from '../../../helpers/http.js'

/*
 * Alarm rows written straight into the tables of migration 0013, as the alarm engine
 * writes them: these tests check how the REST API shows alarms, not how they are raised.
 */

export interface AlarmContactInput {
  contact_id?: number | null
  name: string
  phone_number: string
  state: string
  error_code?: number | null
  error?: string | null
  texts_sent?: number
  calls_placed?: number
  alerted_at?: number | null
  acknowledged_at?: number | null
}

export interface AlarmInput {
  user: { id: number; name?: string; phone_number?: string }
  probe_id?: number | null
  trigger?: string
  quote?: string | null
  code?: string
  status?: 'open' | 'acknowledged' | 'resolved'
  mode?: 'all' | 'ordered'
  step_minutes?: number
  repeats?: number
  voice_calls?: boolean
  step?: number
  repeats_sent?: number
  exhausted_at?: number | null
  /** Index into `contacts` of the one who acknowledged. */
  acknowledged_by_index?: number
  acknowledged_at?: number | null
  resolved_reason?: string | null
  resolved_by?: string | null
  resolved_at?: number | null
  created_at: number
  contacts?: AlarmContactInput[]
  /** Timeline rows; `contact` is an index into `contacts`. */
  timeline?: Array<{ kind: string; detail?: string | null; contact?: number; at: number }>
}

export interface InsertedAlarm {
  id: number
  contactIds: number[]
}

function idOf(row: unknown): number {
  return Number(typeof row === 'object' && row !== null ? (row as { id: number }).id : row)
}

let codes = 10

export async function insertAlarm(knex: Knex, input: AlarmInput): Promise<InsertedAlarm> {
  const status = input.status ?? 'open'
  codes += 1
  const code = input.code ?? String(codes)
  const [alarmRow] = await knex('alarms')
    .insert({
      user_id: input.user.id,
      user_name: input.user.name ?? 'Bob Smith',
      user_phone: input.user.phone_number ?? '+15550001000',
      probe_id: input.probe_id ?? null,
      trigger: input.trigger ?? 'said_no',
      quote: input.quote ?? null,
      code,
      open_code: null,
      status,
      mode: input.mode ?? 'all',
      step_minutes: input.step_minutes ?? 10,
      repeats: input.repeats ?? 3,
      voice_calls: input.voice_calls ?? false,
      step: input.step ?? 0,
      repeats_sent: input.repeats_sent ?? 0,
      exhausted_at: input.exhausted_at ?? null,
      acknowledged_by: null,
      acknowledged_at: input.acknowledged_at ?? null,
      resolved_reason: input.resolved_reason ?? null,
      resolved_by: input.resolved_by ?? null,
      resolved_at: input.resolved_at ?? null,
      created_at: input.created_at,
      updated_at: input.created_at
    })
    .returning('id')
  const id = idOf(alarmRow)
  const contactIds: number[] = []
  for (const [position, contact] of (input.contacts ?? []).entries()) {
    const [row] = await knex('alarm_contacts')
      .insert({
        alarm_id: id,
        contact_id: contact.contact_id ?? null,
        name: contact.name,
        phone_number: contact.phone_number,
        position,
        state: contact.state,
        message_id: null,
        error_code: contact.error_code ?? null,
        error: contact.error ?? null,
        texts_sent: contact.texts_sent ?? 0,
        calls_placed: contact.calls_placed ?? 0,
        alerted_at: contact.alerted_at ?? null,
        acknowledged_at: contact.acknowledged_at ?? null,
        updated_at: input.created_at
      })
      .returning('id')
    contactIds.push(idOf(row))
  }
  if (input.acknowledged_by_index !== undefined)
    await knex('alarms').where({ id }).update({ acknowledged_by: contactIds[input.acknowledged_by_index] })
  for (const entry of input.timeline ?? []) {
    await knex('alarm_timeline').insert({
      alarm_id: id,
      alarm_contact_id: entry.contact === undefined ? null : contactIds[entry.contact],
      kind: entry.kind,
      detail: entry.detail ?? null,
      created_at: entry.at
    })
  }
  return { id, contactIds }
}

/** The schema a route documents for a status, as /documentation shows it. */
export function documentedSchema(kronus: TestKronus, method: string, url: string, statusCode: number): Joi.Schema {
  const route = kronus.server.match(method.toLowerCase() as 'get', url.split('?')[0]!)
  if (!route) throw new Error(`no route for ${method} ${url}`)
  const response = route.settings.response as { status?: Record<number, Joi.Schema>; schema?: Joi.Schema | null }
  const schema = response.status?.[statusCode] ?? response.schema
  if (!schema) throw new Error(`no documented schema for ${method} ${url} ${statusCode}`)
  return schema
}

/** The error of validating a response body against its route's documented schema, or undefined. */
export function schemaError(kronus: TestKronus, method: string, url: string, res: ApiResponse): Error | undefined {
  return documentedSchema(kronus, method, url, res.statusCode).validate(res.body, { presence: 'optional' }).error
}
