import { ValidationError } from '../domain/errors.js'
import { nextFireAfter, parseCron } from '../scheduling/cron.js'
import { minIntervalProblem } from '../scheduling/min-interval-check.js'
import { toRfc3339InZone } from '../util/time.js'
import type { ServiceContext } from './context.js'
import { describeCron } from './cron-description.js'
import type { ProbeSettingsService } from './probe-settings.js'

/** How many fire times a preview lists. */
export const PREVIEW_FIRES = 5

export interface SchedulePreview {
  cron_expression: string
  time_zone: string
  /** The cron in plain English. */
  description: string
  /** The next fires after now, RFC 3339 with the zone's offset at each (DST-exact, from the one cron engine). */
  next: string[]
}

/** What a check-in schedule would do, before it is set: the same rule as setting it, its words, its next fires. */
export class SchedulePreviewService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly probeSettings: ProbeSettingsService
  ) {}

  /**
   * Throws ValidationError for a cron PUT probe_settings would refuse (the one rule of
   * src/scheduling/min-interval-check.ts). Without a zone, the user's own zone is used.
   */
  async preview(userId: number, cronExpression: string, timeZone?: string): Promise<SchedulePreview> {
    const problem = minIntervalProblem(cronExpression, this.ctx.config.limits.minCheckInIntervalMinutes)
    if (problem) throw new ValidationError(problem)
    const zone = timeZone ?? this.probeSettings.timeZoneOf(await this.probeSettings.get(userId))
    const schedule = parseCron(cronExpression)
    const next: string[] = []
    let after = this.ctx.clock.now()
    while (next.length < PREVIEW_FIRES) {
      const fire = nextFireAfter(schedule, after, zone)
      if (fire === null) break
      next.push(toRfc3339InZone(fire, zone))
      after = fire
    }
    return { cron_expression: cronExpression, time_zone: zone, description: describeCron(cronExpression), next }
  }
}
