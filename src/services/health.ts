import type { ServiceContext } from './context.js'
import type { DegradedCondition } from './watchdog.js'

/** What GET /health reports once the database has answered. */
export interface HealthReport {
  status: 'ok' | 'degraded'
  /** Why it is degraded, in words for the operator; empty when ok. */
  reasons: string[]
}

export class HealthService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly watchdog: { conditions(): Promise<DegradedCondition[]> }
  ) {}

  /** Throws when the database cannot answer a trivial query. */
  async checkDatabase(): Promise<void> {
    await this.ctx.knex.raw('select 1')
  }

  /** The watchdog's conditions now (throws, as checkDatabase does, when the database cannot answer). */
  async report(): Promise<HealthReport> {
    const conditions = await this.watchdog.conditions()
    return { status: conditions.length > 0 ? 'degraded' : 'ok', reasons: conditions.map((c) => c.reason) }
  }
}
