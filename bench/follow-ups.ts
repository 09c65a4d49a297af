import { setTimeout as sleep } from 'node:timers/promises'
import type { Knex } from 'knex'
import { PROBE_STATUS_ID } from '../src/domain/constants.js'
import { PROBE_JOBS } from '../src/probes/jobs.js'
import { probeFollowUpKey } from '../src/queue/keys.js'
import { FANOUT_TARGET_SECONDS, usersLabel } from './fanout.js'
import type { BenchDatabaseSpec } from './lib/database.js'
import { buildBenchKronus } from './lib/kronus.js'
import { QueryProfile } from './lib/query-profile.js'
import { type ResultRow, row } from './lib/result.js'
import { RssSampler } from './lib/rss.js'
import { dailyCronAt, seedUsers } from './lib/seed.js'

export interface FollowUpsParams {
  users: number
  /** Give up this long after the due time and report how far it got. */
  timeoutMs: number
}

const MINUTE = 60_000
const CHUNK = 400

/** The first whole minute at least `leadMs` from now. */
function nextMinute(leadMs: number): number {
  return Math.ceil((Date.now() + leadMs) / MINUTE) * MINUTE
}

/**
 * A pending probe for each of users 1..N (as seedUsers made them), written straight to
 * the database as the lifecycle's start writes it, waiting at its first follow-up.
 */
export async function seedPendingProbes(knex: Knex, users: number): Promise<Array<{ id: number; userId: number }>> {
  const now = Date.now()
  const probeIds: Array<{ id: number; userId: number }> = []
  await knex.transaction(async (trx) => {
    for (let start = 1; start <= users; start += CHUNK) {
      const part = Array.from({ length: Math.min(CHUNK, users - start + 1) }, (_, i) => start + i)
      const inserted: Array<{ id: number | string; user_id: number | string }> = await trx('probes')
        .insert(
          part.map((userId) => ({
            user_id: userId,
            probe_status_id: PROBE_STATUS_ID.pending,
            last_response: '',
            retry_count: 0,
            max_retries: 2,
            wait_time_in_minutes: 30,
            origin: 'scheduled',
            pending_user_id: userId,
            created_at: now,
            updated_at: now
          }))
        )
        .returning(['id', 'user_id'])
      for (const r of inserted) probeIds.push({ id: Number(r.id), userId: Number(r.user_id) })
    }
  })
  return probeIds
}

/**
 * N check-ins left unanswered (issue 17, point 3): N users each with a probe pending since
 * its ask, and that probe's first follow-up timer, all due at the same whole minute, as a
 * fan-out leaves them wait_time_in_minutes later. The probes are written straight to the
 * database and the timers through the queue, as the lifecycle's start writes them: the
 * fan-out itself is the other case. Kronus runs as in production (kronus.start(), the
 * built-in plugins), and the stopwatch runs from the due time until the last follow-up
 * text reaches the channel.
 */
export async function followUpsCase(spec: BenchDatabaseSpec, params: FollowUpsParams): Promise<ResultRow[]> {
  const { users } = params
  const { kronus, channel } = await buildBenchKronus(spec, {}, { builtins: true })
  // No schedule fires during the case: its only texts are the follow-ups.
  const farAway = nextMinute(86_400_000)
  await seedUsers(kronus.knex, { users, nextFireAt: farAway, cron: dailyCronAt(farAway) })
  const probeIds = await seedPendingProbes(kronus.knex, users)
  // Chosen after seeding, so the wait is under a minute whatever the seeding took.
  const dueAt = nextMinute(5_000)
  await kronus.queue.enqueueMany(
    PROBE_JOBS.followUp,
    probeIds.map(({ id, userId }) => ({
      payload: { probeId: id, retry: 0 },
      options: { runAt: dueAt, key: probeFollowUpKey(id, 0), userId }
    }))
  )

  const profileFile = process.env.KRONUS_BENCH_QUERY_PROFILE
  const queries = profileFile ? new QueryProfile().attach(kronus.knex) : null
  let followedUp = 0
  let allFollowedUpAt: number | null = null
  kronus.events.on('probe.follow_up_sent', () => {
    followedUp += 1
    if (followedUp === users) allFollowedUpAt = Date.now()
  })
  const rss = new RssSampler().start()
  let timedOut = false
  let endAt: number
  let cpu: NodeJS.CpuUsage
  try {
    await kronus.start()
    await sleep(Math.max(0, dueAt - Date.now()))
    const cpuAtDue = process.cpuUsage()
    const deadline = sleep(dueAt + params.timeoutMs - Date.now(), 'timeout' as const)
    timedOut = (await Promise.race([channel.waitFor(users).then(() => 'done' as const), deadline])) === 'timeout'
    endAt = timedOut ? Date.now() : channel.lastAt!
    cpu = process.cpuUsage(cpuAtDue)
  } finally {
    rss.stop()
  }
  queries?.write(`${profileFile}.follow-ups.${spec.kind}.${users}.txt`)
  await kronus.stop('benchmark finished')

  const elapsed = (endAt - dueAt) / 1000
  const rate = channel.count / elapsed
  const seconds = timedOut ? (channel.count > 0 ? (elapsed * users) / channel.count : Infinity) : elapsed
  const progress = timedOut
    ? `PROJECTED from the first ${elapsed.toFixed(0)} s: ${followedUp} follow-ups queued, ${channel.count} texts sent of ${users}; `
    : ''
  const cpuShare = ((cpu!.user + cpu!.system) / 1000 / (endAt - dueAt)) * 100
  const phases = [
    channel.firstAt === null ? 'no text sent' : `first text at +${((channel.firstAt - dueAt) / 1000).toFixed(1)} s`,
    allFollowedUpAt === null
      ? 'not all follow-ups queued'
      : `all follow-ups queued at +${((allFollowedUpAt - dueAt) / 1000).toFixed(1)} s`
  ]
  return [
    row({
      bench: 'fanout',
      subject: `${usersLabel(users)} check-ins unanswered: due time → last follow-up text${timedOut ? ' (projected)' : ''}`,
      db: spec.kind,
      value: seconds,
      unit: 's',
      limit: FANOUT_TARGET_SECONDS,
      limitLabel: `${FANOUT_TARGET_SECONDS} s target (100k)`,
      lowerIsBetter: true,
      detail: `${progress}${rate.toFixed(0)} texts/s; ${phases.join(', ')}; Kronus process CPU ${cpuShare.toFixed(0)} % of a core; peak RSS ${(rss.peak / 1024 / 1024).toFixed(0)} MiB`
    })
  ]
}
