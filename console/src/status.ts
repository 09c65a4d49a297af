import { apiIfPresent } from './api.js'
import { h } from './dom.js'
import { relative, when } from './format.js'

/* A user's status (GET /v1/users/{uid}/status) in words: the badge of the person view and of the admin's list. */

export interface Status {
  state: 'alarm' | 'waiting' | 'paused' | 'off' | 'ok' | 'unknown' | 'not_ok'
  last_checkin: { id: number; status: string; at: string } | null
  waiting_checkin: { id: number; sent_at: string; follow_ups_sent: number; next_follow_up_at: string | null } | null
  open_alarm: { id: number; code: string; state: string; trigger: string; opened_at: string } | null
  next_checkin_at: string | null
  paused_until: string | null
  checks_on: boolean
}

export const STATE_LABEL: Record<Status['state'], string> = {
  alarm: 'Alarm open',
  waiting: 'Waiting for an answer',
  paused: 'Paused',
  off: 'Check-ins off',
  ok: 'OK',
  unknown: 'No check-in yet',
  not_ok: 'Last check-in not OK'
}

export function stateBadge(state: Status['state']): HTMLElement {
  return h('span', { class: `badge state-${state}` }, STATE_LABEL[state] ?? state)
}

export function loadStatus(uid: number): Promise<Status | null> {
  return apiIfPresent<Status>(`/v1/users/${uid}/status`)
}

/** One sentence saying what is true now, for the person themself. */
export function statusSentence(status: Status, timeZone?: string | null): string {
  switch (status.state) {
    case 'alarm':
      return status.open_alarm?.state === 'acknowledged'
        ? `An alarm is open since ${when(status.open_alarm.opened_at, timeZone)}: an emergency contact has confirmed they are checking on you.`
        : `An alarm is open since ${when(status.open_alarm?.opened_at, timeZone)}: your emergency contacts are being alerted.`
    case 'waiting':
      return `A check-in was sent ${when(status.waiting_checkin?.sent_at, timeZone)} and is waiting for your answer.`
    case 'paused':
      return `Check-ins are paused until ${when(status.paused_until, timeZone)}.`
    case 'off':
      return 'Check-ins are off: nobody is watching over you until you turn them on.'
    case 'ok':
      return `Your last check-in was answered OK ${when(status.last_checkin?.at, timeZone)}.`
    case 'unknown':
      return 'No check-in has been answered yet.'
    case 'not_ok':
      return `Your last check-in (${when(status.last_checkin?.at, timeZone)}) was not answered OK.`
  }
}

export function nextCheckIn(at: string | null | undefined, timeZone?: string | null): string {
  return at ? `${when(at, timeZone)} (${relative(at)})` : 'None scheduled'
}
