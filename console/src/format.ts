/* Times as a person reads them: in their own time zone, with the zone named. */

export function when(iso: string | null | undefined, timeZone?: string | null): string {
  if (!iso) return '—'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  try {
    return new Intl.DateTimeFormat('en-GB', {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: timeZone ?? undefined,
      timeZoneName: 'short'
    }).format(date)
  } catch {
    return date.toISOString()
  }
}

/** "3 minutes ago" / "in 2 hours", from the browser's clock (only a hint next to the exact time). */
export function relative(iso: string | null | undefined): string {
  if (!iso) return ''
  const diff = new Date(iso).getTime() - Date.now()
  const minutes = Math.round(Math.abs(diff) / 60_000)
  const amount =
    minutes < 1
      ? 'less than a minute'
      : minutes < 120
        ? `${minutes} minute${minutes === 1 ? '' : 's'}`
        : minutes < 48 * 60
          ? `${Math.round(minutes / 60)} hours`
          : `${Math.round(minutes / 1440)} days`
  return diff >= 0 ? `in ${amount}` : `${amount} ago`
}

export function fullName(person: { first_name?: string; last_name?: string; name?: string | null }): string {
  return person.name ?? [person.first_name, person.last_name].filter(Boolean).join(' ')
}
