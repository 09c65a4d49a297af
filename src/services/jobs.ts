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

/** Due jobs waiting in one lane: how many, and how long the oldest has been due. */
export interface DueLane {
  /**
   * The lane without its per-user part: `events:alarms:deliveries` for every user's
   * `events:alarms:deliveries:<userId>`, `webhook:3` for `webhook:3:<userId>`; for jobs in
   * no lane, the job's name (`message.send`, `probe.fire`).
   */
  lane: string
  due: number
  /** now - the oldest due job's run_at, in ms (0 for one due this instant). */
  oldestDueAgeMs: number
}

/**
 * A serial lane's group: the lane less its last segment, the user it orders (or
 * `global`), so a backlog shows once per subscriber or endpoint, not once per user.
 */
export function laneGroup(lane: string | null, name: string): string {
  if (lane === null) return name
  const cut = lane.lastIndexOf(':')
  return cut > 0 ? lane.slice(0, cut) : lane
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

  /**
   * Jobs due now (scheduled or enqueued, run_at reached) by lane group (see DueLane), the
   * longest wait first. One query along the (status, run_at) index that reads only due
   * jobs: the queue's whole history of successful and future jobs is never touched.
   */
  async dueByLane(trx?: Knex.Transaction): Promise<DueLane[]> {
    const now = this.ctx.clock.now()
    const rows = (await (trx ?? this.ctx.knex)('jobs')
      .select('lane', 'name')
      .count({ n: '*' })
      .min({ oldest: 'run_at' })
      .whereIn('status', ['scheduled', 'enqueued'])
      .where('run_at', '<=', now)
      .groupBy('lane', 'name')) as Array<{
      lane: string | null
      name: string
      n: number | string
      oldest: number | string
    }>
    const byGroup = new Map<string, DueLane>()
    for (const row of rows) {
      const lane = laneGroup(row.lane, row.name)
      const ageMs = Math.max(0, now - Number(row.oldest))
      const seen = byGroup.get(lane)
      if (seen) {
        seen.due += Number(row.n)
        seen.oldestDueAgeMs = Math.max(seen.oldestDueAgeMs, ageMs)
      } else byGroup.set(lane, { lane, due: Number(row.n), oldestDueAgeMs: ageMs })
    }
    return [...byGroup.values()].sort((a, b) => b.oldestDueAgeMs - a.oldestDueAgeMs || a.lane.localeCompare(b.lane))
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
