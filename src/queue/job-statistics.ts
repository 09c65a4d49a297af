import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { afterCommit } from '../db/after-commit.js'

/** Jobs this process stores between two analyses of the jobs table it asks for. */
export const ANALYZE_AFTER_JOBS = 10_000

/**
 * PostgreSQL plans the queue's claims from the jobs table's statistics, which autovacuum
 * refreshes only once a tenth of the table has changed, and at most once a minute. A
 * burst of jobs (a fan-out's, a day of events for a durable subscriber) changes the table
 * in seconds, and until then the statistics still say that hardly any job waits. So
 * planned, a claim of 100 jobs read all 100k waiting ones through the status index: 70 ms
 * a claim instead of 2 (`npm run bench -- --fanout-cases deliveries`, 100k: 505 deliveries/s,
 * and 7,517 once analyzed). So, as PostgreSQL advises after a bulk load, a process that has
 * stored ANALYZE_AFTER_JOBS jobs since its last analysis analyzes the table itself once
 * they are committed: one at a time, a sample of the table, and SKIP_LOCKED, so it never
 * waits behind autovacuum or another instance's analysis. Not on SQLite, whose planner is
 * led by the indexes the claims name.
 */
export class JobStatistics {
  readonly #knex: Knex
  readonly #logger: Logger
  readonly #threshold: number
  #stored = 0
  #analyzing: Promise<void> | undefined

  constructor(knex: Knex, logger: Logger, threshold = ANALYZE_AFTER_JOBS) {
    this.#knex = knex
    this.#logger = logger
    this.#threshold = threshold
  }

  /** Counts jobs just stored (in `trx`, when given); analyzes the table once enough have been, after the commit. */
  stored(jobs: number, trx?: Knex.Transaction): void {
    this.#stored += jobs
    if (this.#stored < this.#threshold || this.#analyzing) return
    this.#stored = 0
    this.#analyzing = (trx ? afterCommit(trx) : Promise.resolve(true))
      .then(async (committed) => {
        if (committed) await this.#knex.raw('ANALYZE (SKIP_LOCKED) ??', ['jobs'])
      })
      .catch((err: unknown) => {
        this.#logger.warn({ err }, 'could not analyze the jobs table; claims may be planned from old statistics')
      })
      .finally(() => {
        this.#analyzing = undefined
      })
  }

  /** Resolves once the analysis under way, if any, has ended. */
  async settled(): Promise<void> {
    await this.#analyzing
  }
}
