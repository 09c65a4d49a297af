import { type CronSchedule, nextFireAfter, parseCron } from './cron.js'

export interface FirePlanInput {
  schedule: CronSchedule | string
  timeZone: string
  /** The stored next_fire_at, which has been reached. */
  dueAt: number
  now: number
  /** A missed fire older than this is not sent. */
  graceMs: number
}

export interface FirePlan {
  /** The one fire to send now: the latest fire in [max(dueAt, now - grace), now], or null if all were too old. */
  fireAt: number | null
  /** The first fire after now, to store as next_fire_at (null if the cron never fires again). */
  nextFireAt: number | null
}

const MINUTE = 60_000

/**
 * What to do with a schedule whose time has come. A normal tick finds one fire; after
 * down time it finds several, and sends only the latest if it is recent enough: never
 * a burst. The latest fire is looked for back from now, in doubling steps, so the walk
 * is bounded by the fires near now, not by how long the server was down or how wide the
 * grace window is (plugin schedules make up their latest fire whatever its age).
 */
export function planFire({ schedule: expression, timeZone, dueAt, now, graceMs }: FirePlanInput): FirePlan {
  const schedule = typeof expression === 'string' ? parseCron(expression) : expression
  const windowStart = Math.max(dueAt, now - graceMs)
  let from = windowStart
  for (let back = MINUTE; now - back > windowStart; back *= 2) {
    const first = nextFireAfter(schedule, now - back - 1, timeZone)
    if (first !== null && first <= now) {
      from = now - back
      break
    }
  }
  let fireAt: number | null = null
  let next = nextFireAfter(schedule, from - 1, timeZone)
  while (next !== null && next <= now) {
    fireAt = next
    next = nextFireAfter(schedule, next, timeZone)
  }
  return { fireAt, nextFireAt: next }
}
