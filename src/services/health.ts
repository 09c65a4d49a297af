import type { ServiceContext } from './context.js'

export class HealthService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Throws when the database cannot answer a trivial query. */
  async checkDatabase(): Promise<void> {
    await this.ctx.knex.raw('select 1')
  }
}
