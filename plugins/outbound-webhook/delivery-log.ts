import Boom from '@hapi/boom'
import type { Knex } from 'knex'
import { type Page, type PluginDatabase, pageOfRows } from 'kronus'
import { type DeliveryRow, type DeliveryView, deliveryView } from './rows.js'

export const DELIVERIES_TABLE = 'webhook_deliveries'
const TABLE = DELIVERIES_TABLE

export type NewDeliveryRow = Omit<DeliveryRow, 'id'>

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
