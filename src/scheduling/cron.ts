import { fromLocal, toLocal } from '../util/time.js'

/**
 * Five-field cron (minute hour day-of-month month day-of-week) evaluated in an IANA
 * time zone. Written here rather than taken from a library because Kronus needs exact
 * DST rules: a skipped local time fires once when the clocks jump, a repeated local
 * time fires once, at its first occurrence.
 */
export interface CronSchedule {
  source: string
  minutes: number[]
  hours: number[]
  days: Set<number>
  months: Set<number>
  weekdays: Set<number>
  /** Whether day-of-month / day-of-week were given as `*` (Vixie cron's OR rule). */
  daysStar: boolean
  weekdaysStar: boolean
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *'
}

export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError'
}

function parseValue(text: string, min: number, max: number, names?: string[]): number {
  const lower = text.toLowerCase()
  const named = names?.indexOf(lower) ?? -1
  const value = named >= 0 ? named + min : /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CronSyntaxError(`"${text}" is not in ${min}-${max}`)
  }
  return value
}

function parseField(field: string, min: number, max: number, names?: string[]): { values: Set<number>; star: boolean } {
  const values = new Set<number>()
  let star = false
  for (const part of field.split(',')) {
    const [range, stepText, extra] = part.split('/')
    if (range === undefined || range === '' || extra !== undefined)
      throw new CronSyntaxError(`"${part}" is not a cron range`)
    let step = 1
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw new CronSyntaxError(`step "${stepText}" must be a positive integer`)
      step = Number(stepText)
    }
    let start: number
    let end: number
    if (range === '*' || range === '?') {
      start = min
      end = max
      star = star || step === 1
    } else if (range.includes('-')) {
      const [a, b, more] = range.split('-')
      if (a === undefined || b === undefined || more !== undefined)
        throw new CronSyntaxError(`"${range}" is not a cron range`)
      start = parseValue(a, min, max, names)
      end = parseValue(b, min, max, names)
      if (end < start) throw new CronSyntaxError(`range "${range}" runs backwards`)
    } else {
      start = parseValue(range, min, max, names)
      end = stepText !== undefined ? max : start
    }
    for (let v = start; v <= end; v += step) values.add(v)
  }
  return { values, star }
}

export function parseCron(expression: string): CronSchedule {
  const source = expression.trim()
  const expanded = MACROS[source.toLowerCase()] ?? source
  const fields = expanded.split(/\s+/)
  if (fields.length !== 5) throw new CronSyntaxError(`expected 5 fields, got ${fields.length}`)
  const [mi, h, dom, mon, dow] = fields as [string, string, string, string, string]
  const minutes = parseField(mi, 0, 59)
  const hours = parseField(h, 0, 23)
  const days = parseField(dom, 1, 31)
  const months = parseField(mon, 1, 12, MONTH_NAMES)
  const weekdays = parseField(dow, 0, 7, DAY_NAMES)
  // 7 is another name for Sunday.
  if (weekdays.values.delete(7)) weekdays.values.add(0)
  const schedule: CronSchedule = {
    source,
    minutes: [...minutes.values].sort((a, b) => a - b),
    hours: [...hours.values].sort((a, b) => a - b),
    days: days.values,
    months: months.values,
    weekdays: weekdays.values,
    daysStar: days.star,
    weekdaysStar: weekdays.star
  }
  if (nextFireAfter(schedule, Date.UTC(2000, 0, 1), 'UTC') === null) {
    throw new CronSyntaxError('the expression never fires')
  }
  return schedule
}

export function isValidCron(expression: string): boolean {
  try {
    parseCron(expression)
    return true
  } catch {
    return false
  }
}

function dayMatches(s: CronSchedule, day: number, month: number, weekday: number): boolean {
  if (!s.months.has(month)) return false
  const domHit = s.days.has(day)
  const dowHit = s.weekdays.has(weekday)
  if (s.daysStar && s.weekdaysStar) return true
  if (s.daysStar) return dowHit
  if (s.weekdaysStar) return domHit
  return domHit || dowHit
}

/** Nine years covers the rarest valid schedule (29 February on a given weekday is rarer still, but allowed to lapse). */
const SEARCH_DAYS = 366 * 9

/**
 * The first fire strictly after `after` (epoch ms), or null if none within the search window.
 */
export function nextFireAfter(schedule: CronSchedule | string, after: number, timeZone: string): number | null {
  const s = typeof schedule === 'string' ? parseCron(schedule) : schedule
  const start = toLocal(after, timeZone)
  // Walk calendar days in the zone; Date.UTC is used only as a calendar, not for instants.
  const cursor = new Date(Date.UTC(start.year, start.month - 1, start.day))
  for (let i = 0; i < SEARCH_DAYS; i++, cursor.setUTCDate(cursor.getUTCDate() + 1)) {
    const year = cursor.getUTCFullYear()
    const month = cursor.getUTCMonth() + 1
    const day = cursor.getUTCDate()
    if (!dayMatches(s, day, month, cursor.getUTCDay())) continue
    for (const hour of s.hours) {
      for (const minute of s.minutes) {
        const at = fromLocal(year, month, day, hour, minute, timeZone)
        if (at > after) return at
      }
    }
  }
  return null
}

const GAP_SPAN_MS = 8 * 24 * 3600_000

/**
 * The shortest time between two consecutive fires of a cron, in minutes, looked for over
 * the fires of its first eight days (a week and the turn of a day: every hour, day and
 * weekday pattern repeats within it), or null when it fires only once in that span. It
 * stops at the first gap under `below` (the limit being checked). Fires are taken in UTC: the limit is on the shape
 * of the schedule, not on a clock change that makes one night an hour shorter.
 */
export function shortestGapMinutes(schedule: CronSchedule | string, below: number): number | null {
  const s = typeof schedule === 'string' ? parseCron(schedule) : schedule
  const first = nextFireAfter(s, Date.UTC(2001, 0, 1), 'UTC')
  if (first === null) return null
  let shortest: number | null = null
  let previous = first
  // In UTC every wall-clock minute is one instant, so the fires are read off the calendar directly.
  const cursor = new Date(first - (first % (24 * 3600_000)))
  for (let day = 0; day <= GAP_SPAN_MS / (24 * 3600_000); day++, cursor.setUTCDate(cursor.getUTCDate() + 1)) {
    if (!dayMatches(s, cursor.getUTCDate(), cursor.getUTCMonth() + 1, cursor.getUTCDay())) continue
    for (const hour of s.hours) {
      for (const minute of s.minutes) {
        const fire = cursor.getTime() + (hour * 60 + minute) * 60_000
        if (fire <= first || fire - first > GAP_SPAN_MS) continue
        const gap = (fire - previous) / 60_000
        if (shortest === null || gap < shortest) shortest = gap
        if (shortest < below) return shortest
        previous = fire
      }
    }
  }
  return shortest
}
