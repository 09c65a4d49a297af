import pino from 'pino'
import { JobQueue, type JobQueueOptions } from '../../src/queue/job-queue.js'
import type { JobRow } from '../../src/queue/types.js'
import type { TestKronus } from '../helpers/app.js'

/** A queue of its own on a test Kronus's database and clock, silent unless a logger is given. */
export function queueFor(kronus: TestKronus, options: Partial<JobQueueOptions> = {}): JobQueue {
  return new JobQueue({ knex: kronus.knex, clock: kronus.clock, logger: pino({ level: 'silent' }), ...options })
}

export async function jobRow(kronus: TestKronus, id: number): Promise<JobRow> {
  const row = await kronus.knex('jobs').where({ id }).first()
  if (!row) throw new Error(`job ${id} not found`)
  return row as JobRow
}

/** A promise with its resolve function, to hold a handler until the test lets it go. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void
  const promise = new Promise<T>((resolve) => {
    open = resolve
  })
  return { promise, open }
}
