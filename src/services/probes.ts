import type { Knex } from 'knex'
import { Probe, User } from '../db/models/index.js'
import { NotFoundError } from '../domain/errors.js'
import { paginate, type Page } from '../db/paging.js'
import type { ServiceContext } from './context.js'

export class ProbeQueryService {
  constructor(private readonly ctx: ServiceContext) {}

  /** A user's probes, newest first, each with its status and the alert it caused, if any. */
  async listForUser(userId: number, page: number, trx?: Knex.Transaction): Promise<Page<Probe>> {
    const db = trx ?? this.ctx.knex
    if (!(await User.query(db).findById(userId))) throw new NotFoundError(`user ${userId} not found`)
    const query = Probe.query(db)
      .where({ user_id: userId })
      .withGraphFetched('[status, emergency_probe]')
      .orderBy('id', 'desc')
    const result = await paginate(query, page)
    for (const probe of result.results) probe.emergency_probe ??= null
    return result
  }
}
