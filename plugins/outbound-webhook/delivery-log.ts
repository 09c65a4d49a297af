import Boom from '@hapi/boom'
import type { Knex } from 'knex'
import { pageOf, type Page } from './paging.js'
import { deliveryView, type DeliveryRow, type DeliveryView } from './rows.js'

const TABLE = 'webhook_deliveries'

export type NewDeliveryRow = Omit<DeliveryRow, 'id'>

/** Every attempt to deliver an event to an endpoint, newest first when read. */
export class DeliveryLog {
  readonly #knex: Knex

  constructor(knex: Knex) {
    this.#knex = knex
  }

  async record(trx: Knex.Transaction, row: NewDeliveryRow): Promise<void> {
    await trx(TABLE).insert(row)
  }

  page(endpointId: number, page: number): Promise<Page<DeliveryView>> {
    return pageOf(this.#knex<DeliveryRow>(TABLE).where({ endpoint_id: endpointId }), page, deliveryView, [{ column: 'id', order: 'desc' }])
  }

  async find(endpointId: number, id: number): Promise<DeliveryRow> {
    const row: DeliveryRow | undefined = await this.#knex<DeliveryRow>(TABLE).where({ id, endpoint_id: endpointId }).first()
    if (!row) throw Boom.notFound('delivery not found')
    return row
  }

  /** Deletes attempts made before `before` (epoch ms); returns how many. */
  prune(before: number): Promise<number> {
    return this.#knex(TABLE).where('created_at', '<', before).delete()
  }
}
