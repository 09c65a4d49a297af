import Boom from '@hapi/boom'
import type { Knex } from 'knex'
import { type Page, type PluginDatabase, pageOfRows } from 'kronus'
import { ENDPOINTS_TABLE } from './endpoints.js'
import { type DeliveryRow, type DeliveryView, deliveryView } from './rows.js'

export const DELIVERIES_TABLE = 'webhook_deliveries'
const TABLE = DELIVERIES_TABLE

export type NewDeliveryRow = Omit<DeliveryRow, 'id'>

/** A delivery (one event to one endpoint, original or asked again) whose last attempt failed. */
export interface FailedDelivery {
  /** Its last attempt's id. */
  id: number
  endpoint_id: number
  /** The endpoint's user; null for a configured endpoint. */
  user_id: number | null
  event: string
  /** 'failed': it will be tried again; 'dead': given up (attempts used up, or the endpoint is off). */
  status: 'failed' | 'dead'
  attempts: number
  last_error: string | null
  last_attempt_at: string
}

/** Every attempt to deliver an event to an endpoint, newest first when read. */
export class DeliveryLog {
  readonly #db: PluginDatabase

  constructor(db: PluginDatabase) {
    this.#db = db
  }

  async record(trx: Knex.Transaction, row: NewDeliveryRow): Promise<void> {
    await this.#db.table(TABLE, trx).insert(row)
  }

  page(endpointId: number, page: number): Promise<Page<DeliveryView>> {
    return pageOfRows(this.#db.table<DeliveryRow>(TABLE).where({ endpoint_id: endpointId }), page, deliveryView, [
      { column: 'id', order: 'desc' }
    ])
  }

  /**
   * Every delivery whose last attempt failed, of every endpoint, newest first (admin).
   * A delivery is the attempts of one event to one endpoint with one trigger (one job);
   * one whose job used its `maxAttempts`, or whose endpoint is off, is given up (dead).
   */
  failed(page: number, maxAttempts: number): Promise<Page<FailedDelivery>> {
    const d = TABLE
    const query = this.#db
      .table<DeliveryRow>(TABLE)
      .join(ENDPOINTS_TABLE, `${ENDPOINTS_TABLE}.id`, `${d}.endpoint_id`)
      .select(`${d}.id`, `${d}.endpoint_id`, `${d}.event_type`, `${d}.attempt`, `${d}.status_code`, `${d}.error`)
      .select(`${d}.created_at`, `${ENDPOINTS_TABLE}.user_id`, `${ENDPOINTS_TABLE}.active`)
      .whereRaw(`NOT ${d}.succeeded`)
      .whereRaw(
        `${d}.id = (SELECT MAX(l.id) FROM ${d} l WHERE l.endpoint_id = ${d}.endpoint_id AND l.event_id = ${d}.event_id AND l.trigger = ${d}.trigger)`
      )
    return pageOfRows(
      query,
      page,
      (row: Record<string, any>): FailedDelivery => ({
        id: Number(row.id),
        endpoint_id: Number(row.endpoint_id),
        user_id: row.user_id === null ? null : Number(row.user_id),
        event: row.event_type,
        status: Number(row.attempt) >= maxAttempts || !row.active ? 'dead' : 'failed',
        attempts: Number(row.attempt),
        // As the dispatcher words a failure that has no error of its own.
        last_error: row.error ?? (row.status_code === null ? null : `the endpoint answered ${row.status_code}`),
        last_attempt_at: new Date(Number(row.created_at)).toISOString()
      }),
      [{ column: `${d}.id`, order: 'desc' }]
    )
  }

  async find(endpointId: number, id: number): Promise<DeliveryRow> {
    const row: DeliveryRow | undefined = await this.#db
      .table<DeliveryRow>(TABLE)
      .where({ id, endpoint_id: endpointId })
      .first()
    if (!row) throw Boom.notFound('delivery not found')
    return row
  }

  /** Deletes attempts made before `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number> {
    return this.#db.table(TABLE).where('created_at', '<', before).delete()
  }
}
