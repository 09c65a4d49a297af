import { h } from './dom.js'
import { fullName, when } from './format.js'

/* One alarm, with its contacts' delivery states and its timeline oldest first: the user's history and the admin's list. */

const STATUS_LABEL: Record<string, string> = { open: 'Open', acknowledged: 'Acknowledged', resolved: 'Resolved' }

export function alarmSummary(alarm: any, timeZone?: string | null): string {
  const by = alarm.acknowledged_by?.name ? ` by ${alarm.acknowledged_by.name}` : ''
  return `${STATUS_LABEL[alarm.status] ?? alarm.status}${alarm.status === 'acknowledged' ? by : ''}: ${alarm.trigger.replaceAll('_', ' ')}, ${when(alarm.created_at, timeZone)}`
}

/** A timeline entry's detail in words: a JSON detail as "key: value" pairs, a repeat of the contact's name left out. */
function detailText(detail: string | null, contactName: string | undefined): string {
  if (!detail || detail === contactName) return ''
  if (!detail.startsWith('{')) return `: ${detail}`
  try {
    const parts = Object.entries(JSON.parse(detail)).map(([key, value]) => {
      const shown = Array.isArray(value) ? (value.length ? value.join(', ') : 'none') : String(value)
      return `${key.replace(/([A-Z])/g, ' $1').toLowerCase()}: ${shown}`
    })
    return `: ${parts.join('; ')}`
  } catch {
    return `: ${detail}`
  }
}

export function alarmDetails(alarm: any, timeZone?: string | null, extra?: Node): HTMLElement {
  const names = new Map<number, string>(alarm.contacts.map((c: any) => [c.id, c.name]))
  return h(
    'details',
    { class: `alarm alarm-${alarm.status}`, 'data-alarm-id': alarm.id, open: alarm.status !== 'resolved' },
    h(
      'summary',
      {},
      h('span', { class: `badge alarm-status-${alarm.status}` }, STATUS_LABEL[alarm.status] ?? alarm.status),
      ' ',
      `Alarm ${alarm.code}${alarm.user ? ` for ${fullName(alarm.user)}` : ''} — ${alarmSummary(alarm, timeZone)}`
    ),
    alarm.quote ? h('p', {}, `Their words: “${alarm.quote}”`) : null,
    h('h4', {}, 'Contacts'),
    alarm.contacts.length
      ? h(
          'ul',
          { class: 'alarm-contacts' },
          alarm.contacts.map((c: any) =>
            h(
              'li',
              {},
              `${c.name} (${c.phone_number}): `,
              h('span', { class: `badge delivery-${c.state}` }, c.state),
              c.error ? ` — ${c.error}` : ''
            )
          )
        )
      : h('p', {}, 'No emergency contact could be alerted.'),
    h('h4', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline' },
      alarm.timeline.map((entry: any) =>
        h(
          'li',
          {},
          h('time', { datetime: entry.created_at }, when(entry.created_at, timeZone)),
          ' ',
          entry.kind.replaceAll('_', ' '),
          entry.alarm_contact_id && names.get(entry.alarm_contact_id) ? ` — ${names.get(entry.alarm_contact_id)}` : '',
          detailText(entry.detail, names.get(entry.alarm_contact_id))
        )
      )
    ),
    extra ?? null
  )
}
