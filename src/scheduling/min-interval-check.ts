import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { CronSyntaxError, shortestGapMinutes } from './cron.js'

/**
 * The one rule for a schedule being set (PUT probe_settings) or previewed: what is wrong
 * with a cron that cannot be read or that fires more often than `limitMinutes` anywhere
 * in its cycle, worded for its user; null when it may be set.
 */
export function minIntervalProblem(cron: string, limitMinutes: number): string | null {
  let gap: number | null
  try {
    gap = shortestGapMinutes(cron, limitMinutes)
  } catch (err) {
    if (err instanceof CronSyntaxError) return `cron_expression: ${err.message}`
    throw err
  }
  if (gap === null || gap >= limitMinutes) return null
  return (
    `cron_expression fires ${gap} minute${gap === 1 ? '' : 's'} apart at its closest; ` +
    `limits.minCheckInIntervalMinutes is ${limitMinutes}`
  )
}

/** User ids named in the log line of one cron; the count says how many there are in all. */
const USER_IDS_LOGGED = 50

/**
 * limits.minCheckInIntervalMinutes is checked when a schedule is set. A schedule stored
 * before (or under a smaller limit) keeps firing: stopping it would leave a person
 * unchecked without anyone knowing. It is logged at start-up, once per cron, so an
 * administrator can ask its users to change it. Returns how many schedules break the limit.
 */
export async function logSchedulesBelowMinInterval(knex: Knex, logger: Logger, limitMinutes: number): Promise<number> {
  const crons: Array<{ cron_expression: string }> = await knex('probe_settings')
    .distinct('cron_expression')
    .where('active', true)
  let found = 0
  for (const { cron_expression: cron } of crons) {
    let gap: number | null
    try {
      gap = shortestGapMinutes(cron, limitMinutes)
    } catch {
      continue // The cron engine logs a cron it cannot read, when it comes due.
    }
    if (gap === null || gap >= limitMinutes) continue
    const users: Array<{ user_id: number | string }> = await knex('probe_settings')
      .select('user_id')
      .where({ active: true, cron_expression: cron })
      .orderBy('user_id')
    found += users.length
    logger.warn(
      {
        cron,
        shortestGapMinutes: gap,
        limitMinutes,
        users: users.length,
        userIds: users.slice(0, USER_IDS_LOGGED).map((u) => Number(u.user_id))
      },
      'check-in schedules fire more often than limits.minCheckInIntervalMinutes; they keep working, but cannot be set again'
    )
  }
  return found
}
