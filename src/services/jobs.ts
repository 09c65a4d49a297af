import type { Knex } from 'knex'
import { Job } from '../db/models/index.js'
import { type Page, paginate } from '../db/paging.js'
import { JOB_STATUSES, type JobStatus } from '../queue/types.js'

// The HTTP edge validates statuses against the queue's list through this service.
export { JOB_STATUSES, type JobStatus }

import { toRfc3339 as iso } from '../util/time.js'
import type { ServiceContext } from './context.js'

/** A job as the admin API shows it: no lock or unique-key internals, payload as an object. */
export interface JobView {
  id: number
  name: string
  status: string
  payload: unknown
  key: string | null
  user_id: number | null
  attempts: number
  max_attempts: number
  last_error: string | null
  run_at: string | null
  finished_at: string | null
  created_at: string | null
  updated_at: string | null
}

/**
 * Counts per status, named like the probe stats (`pending_probe_count`, ...). The first
 * Kronus spelled the enqueued count `enueued_job_count`; that name is kept beside the
 * correct one so its clients keep working.
 */
export interface JobStats {
  scheduled_job_count: number
  enqueued_job_count: number
  enueued_job_count: number
  in_progress_job_count: number
  successful_job_count: number
  dead_job_count: number
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function toJobView(job: Job): JobView {
  return {
    id: Number(job.id),
    name: job.name,
    status: job.status,
    payload: parsePayload(job.payload),
    key: job.job_key,
    user_id: job.user_id === null ? null : Number(job.user_id),
    attempts: Number(job.attempts),
    max_attempts: Number(job.max_attempts),
    last_error: job.last_error,
    run_at: iso(job.run_at),
    finished_at: iso(job.finished_at),
    created_at: iso(job.created_at),
    updated_at: iso(job.updated_at)
  }
}

export class JobService {
  constructor(private readonly ctx: ServiceContext) {}

  /** Jobs newest first, optionally of one status; 100 a page. */
  async list(status: JobStatus | undefined, page: number, trx?: Knex.Transaction): Promise<Page<JobView>> {
    const query = Job.query(trx ?? this.ctx.knex).orderBy('id', 'desc')
    if (status) query.where({ status })
    const result = await paginate(query, page)
    return { results: result.results.map(toJobView), paging: result.paging }
  }

  async stats(trx?: Knex.Transaction): Promise<JobStats> {
    const rows = (await (trx ?? this.ctx.knex)('jobs').select('status').count({ n: '*' }).groupBy('status')) as Array<{
      status: string
      n: number | string
    }>
    const counts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>
    for (const row of rows) {
      if (row.status in counts) counts[row.status as JobStatus] = Number(row.n)
    }
    return {
      scheduled_job_count: counts.scheduled,
      enqueued_job_count: counts.enqueued,
      enueued_job_count: counts.enqueued,
      in_progress_job_count: counts['in-progress'],
      successful_job_count: counts.successful,
      dead_job_count: counts.dead
    }
  }
}
