const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short'
    })
    formatters.set(timeZone, f)
  }
  return f
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

export interface LocalTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  /** 0 = Sunday. */
  weekday: number
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 }

/** Wall-clock reading of an instant in a time zone. */
export function toLocal(instant: number, timeZone: string): LocalTime {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant))
  const get = (type: string) => parts.find((p) => p.type === type)!.value
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    second: Number(get('second')),
    weekday: WEEKDAYS[get('weekday')]!
  }
}

/** Offset of the zone from UTC at an instant, in milliseconds (UTC-5 gives -18000000). */
export function zoneOffset(instant: number, timeZone: string): number {
  const t = Math.floor(instant / 1000) * 1000
  const l = toLocal(t, timeZone)
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - t
}

/**
 * The instant a wall-clock minute names in a zone. A time that occurs twice (clocks
 * going back) gives its first occurrence; a time that does not exist (clocks going
 * forward) gives the first valid moment after it, i.e. the moment the clocks jump.
 */
export function fromLocal(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  timeZone: string
): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute)
  const offsets = new Set([
    zoneOffset(asUtc - 36 * 3600_000, timeZone),
    zoneOffset(asUtc, timeZone),
    zoneOffset(asUtc + 36 * 3600_000, timeZone)
  ])
  const valid = [...offsets].map((o) => asUtc - o).filter((t) => zoneOffset(t, timeZone) === asUtc - t)
  if (valid.length > 0) return Math.min(...valid)

  // In a gap: find the transition between the two candidate instants by bisection.
  const candidates = [...offsets].map((o) => asUtc - o).sort((a, b) => a - b)
  let lo = candidates[0]!
  let hi = candidates[candidates.length - 1]!
  const before = zoneOffset(lo, timeZone)
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000
    if (zoneOffset(mid, timeZone) === before) lo = mid
    else hi = mid
  }
  return hi
}

/** RFC 3339 text of an epoch-millisecond timestamp. */
export function toRfc3339(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null
  return new Date(Number(ms)).toISOString()
}

/** RFC 3339 text of an instant as a clock in `timeZone` reads it, with the zone's offset ("2026-12-05T09:00:00+01:00"). */
export function toRfc3339InZone(ms: number, timeZone: string): string {
  const l = toLocal(ms, timeZone)
  const offsetMinutes = Math.round(zoneOffset(ms, timeZone) / 60_000)
  const two = (n: number) => String(n).padStart(2, '0')
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  const date = `${String(l.year).padStart(4, '0')}-${two(l.month)}-${two(l.day)}`
  return `${date}T${two(l.hour)}:${two(l.minute)}:${two(l.second)}${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
}
