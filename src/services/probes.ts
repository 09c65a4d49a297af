import type { Knex } from 'knex'
import type { QueryBuilder } from 'objection'
import { Probe, User } from '../db/models/index.js'
import { type Page, paginate } from '../db/paging.js'
import { PROBE_STATUS_ID, PROBE_STATUS_NAMES, type ProbeStatusName } from '../domain/constants.js'
import { NotFoundError } from '../domain/errors.js'
import type { OnDemandRequest, OnDemandResult } from '../probes/on-demand.js'
import type { ServiceContext } from './context.js'

export type ProbeStats = Record<`${ProbeStatusName}_probe_count`, number>

/** Starts a probe on a user's request; OnDemandProbes provides it. */
export interface OnDemandRequester {
  request(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult>
}

export class ProbeQueryService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly onDemand: OnDemandRequester
  ) {}

  /** A user's probes, newest first, each with its status and the alert it caused, if any. */
  async listForUser(userId: number, page: number, trx?: Knex.Transaction): Promise<Page<Probe>> {
    const db = trx ?? this.ctx.knex
    if (!(await User.query(db).findById(userId))) throw new NotFoundError(`user ${userId} not found`)
    return this.#page(Probe.query(db).where({ user_id: userId }), page)
  }

  /** Every user's probes, newest first, optionally only those with one status (admin). */
  async list(status: ProbeStatusName | undefined, page: number, trx?: Knex.Transaction): Promise<Page<Probe>> {
    const query = Probe.query(trx ?? this.ctx.knex)
    if (status) query.where({ probe_status_id: PROBE_STATUS_ID[status] })
    return this.#page(query, page)
  }

  /** How many probes have each status, named as the first Kronus names the counts. */
  async stats(trx?: Knex.Transaction): Promise<ProbeStats> {
    const rows = (await (trx ?? this.ctx.knex)('probes')
      .select('probe_status_id')
      .count({ n: '*' })
      .groupBy('probe_status_id')) as Array<{ probe_status_id: number; n: number | string }>
    const stats = Object.fromEntries(PROBE_STATUS_NAMES.map((name) => [`${name}_probe_count`, 0])) as ProbeStats
    for (const row of rows) {
      const name = PROBE_STATUS_NAMES.find((n) => PROBE_STATUS_ID[n] === Number(row.probe_status_id))
      if (name) stats[`${name}_probe_count`] = Number(row.n)
    }
    return stats
  }

  /** Asks for a probe now or in a few minutes; see OnDemandProbes for the rules. */
  async requestOnDemand(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult> {
    return this.onDemand.request(userId, input, trx)
  }

  async #page(query: QueryBuilder<Probe, Probe[]>, page: number): Promise<Page<Probe>> {
    const result = await paginate(query.withGraphFetched('[status, emergency_probe]').orderBy('id', 'desc'), page)
    for (const probe of result.results) probe.emergency_probe ??= null
    return result
  }
}
