import { fromLocal, toLocal } from '../util/time.js'

export interface LocalDay {
  /** YYYY-MM-DD in the zone. */
  date: string
  /** Epoch ms of the next local midnight (the first valid moment of the next day). */
  endsAt: number
}

/** The calendar day an instant falls on in a time zone, and when that day ends there. */
export function localDayOf(instant: number, timeZone: string): LocalDay {
  const l = toLocal(instant, timeZone)
  const pad = (n: number) => String(n).padStart(2, '0')
  // Date.UTC inside fromLocal rolls day 32 over into the next month.
  return {
    date: `${l.year}-${pad(l.month)}-${pad(l.day)}`,
    endsAt: fromLocal(l.year, l.month, l.day + 1, 0, 0, timeZone)
  }
}
