import { fromLocal, toLocal } from './time.js'

/** Quiet hours, 'HH:MM' wall-clock times in the user's zone; end before start crosses midnight. */
export interface QuietHours {
  start: string
  end: string
}

/** The REST shape of a probe_settings row's two columns: both set, or null. */
export function quietHoursOf(row: {
  quiet_hours_start?: string | null
  quiet_hours_end?: string | null
}): QuietHours | null {
  return row.quiet_hours_start && row.quiet_hours_end
    ? { start: row.quiet_hours_start, end: row.quiet_hours_end }
    : null
}

function minutesOf(hhmm: string): [number, number] {
  const [h, m] = hhmm.split(':').map(Number)
  return [h!, m!]
}

/** The calendar date `days` after a local date (month lengths and leap years by Date.UTC). */
function shiftDate(year: number, month: number, day: number, days: number): [number, number, number] {
  const d = new Date(Date.UTC(year, month - 1, day + days))
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]
}

/**
 * The quiet period containing `at` as instants [start, end), or null when `at` is outside
 * quiet hours. Each period is built from wall-clock times with fromLocal, so across a DST
 * change it is as long as the clocks say (22:00 to 07:00 is 8 or 10 hours that night), and
 * a start or end in the skipped hour is the moment the clocks jump.
 */
export function quietPeriodAt(at: number, quiet: QuietHours, timeZone: string): { start: number; end: number } | null {
  const [sh, sm] = minutesOf(quiet.start)
  const [eh, em] = minutesOf(quiet.end)
  const crossesMidnight = eh * 60 + em <= sh * 60 + sm
  const local = toLocal(at, timeZone)
  // The period that started yesterday (if it crosses midnight) or today.
  for (const startsOn of [-1, 0]) {
    const [y, mo, d] = shiftDate(local.year, local.month, local.day, startsOn)
    const start = fromLocal(y, mo, d, sh, sm, timeZone)
    const [ey, emo, ed] = shiftDate(y, mo, d, crossesMidnight ? 1 : 0)
    const end = fromLocal(ey, emo, ed, eh, em, timeZone)
    if (start <= at && at < end) return { start, end }
  }
  return null
}

/** `at`, or the end of the quiet hours it falls in: when a scheduled check-in is sent. */
export function afterQuietHours(at: number, quiet: QuietHours | null, timeZone: string): number {
  if (!quiet) return at
  return quietPeriodAt(at, quiet, timeZone)?.end ?? at
}

/**
 * When a follow-up waiting `waitMs` from `from` is due. The wait does not run during quiet
 * hours: the part of it that falls inside is served after them (due at 22:05 with quiet
 * hours from 22:00 to 07:00 → 07:05; asked at 23:00 with a 10-minute wait → 07:10).
 */
export function followUpDueAt(from: number, waitMs: number, quiet: QuietHours | null, timeZone: string): number {
  if (!quiet) return from + waitMs
  let start = from
  let left = waitMs
  // Each round passes one quiet period; a wait of at most 2 hours meets at most a few.
  for (let round = 0; round < 4; round++) {
    const inside = quietPeriodAt(start, quiet, timeZone)
    if (inside) start = inside.end
    const due = start + left
    const next = quietPeriodAt(due, quiet, timeZone)
    if (!next) return due
    left = due - next.start
    start = next.end
  }
  return start + left
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const pad = (n: number) => String(n).padStart(2, '0')

/** "Sat 10 Jan 2027 at 18:00": a moment in the user's zone, for texts. */
export function describeLocalDateTime(at: number, timeZone: string): string {
  const l = toLocal(at, timeZone)
  return `${DAYS[l.weekday]} ${l.day} ${MONTHS[l.month - 1]} ${l.year} at ${pad(l.hour)}:${pad(l.minute)}`
}

/** "today at 18:00", "tomorrow at 07:00" or "on Sat 10 Jan 2027 at 18:00", as seen from `now` in the zone. */
export function describeWhen(at: number, now: number, timeZone: string): string {
  const a = toLocal(at, timeZone)
  const n = toLocal(now, timeZone)
  const time = `${pad(a.hour)}:${pad(a.minute)}`
  const [ty, tm, td] = shiftDate(n.year, n.month, n.day, 1)
  if (a.year === n.year && a.month === n.month && a.day === n.day) return `today at ${time}`
  if (a.year === ty && a.month === tm && a.day === td) return `tomorrow at ${time}`
  return `on ${describeLocalDateTime(at, timeZone)}`
}
