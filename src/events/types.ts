/**
 * Every lifecycle event Kronus emits, by name, with one payload object each. Plugins add
 * their own by declaration merging:
 *
 *   declare module 'kronus' { interface KronusEvents { 'backup.completed': { name: string } } }
 *
 * A misspelt event name or payload field is then a compile error wherever it is used.
 */
export type Aliveness = 'good' | 'bad' | 'unavailable' | 'unknown'
export type ProbeStatusName = 'pending' | 'good' | 'bad' | 'unavailable' | 'cancelled'

export interface KronusEvents {
  'user.created': { userId: number; isAdmin: boolean }
  'user.updated': { userId: number; fields: string[] }
  'user.deleted': { userId: number }
  'contact.created': { userId: number; contactId: number; isEmergencyContact: boolean }
  'contact.updated': { userId: number; contactId: number; fields: string[] }
  'contact.deleted': { userId: number; contactId: number }
  'probe_settings.updated': { userId: number; active: boolean; cronExpression: string; nextFireAt: number | null }
  'probe.started': {
    userId: number
    probeId: number
    origin: 'scheduled' | 'on_demand'
    maxRetries: number
    waitTimeInMinutes: number
  }
  'probe.follow_up_sent': { userId: number; probeId: number; retryCount: number }
  'probe.reply_received': { userId: number; probeId: number; text: string; understood: boolean }
  'probe.status_changed': {
    userId: number
    probeId: number
    from: ProbeStatusName
    to: ProbeStatusName
    reason: string
  }
  'user.aliveness_changed': { userId: number; from: Aliveness; to: Aliveness; probeId: number | null }
  'emergency.triggered': { userId: number; probeId: number; status: 'bad' | 'unavailable' }
  'message.received': { from: string; text: string; userId: number | null; channel: string; messageId: string | null }
  'message.sent': { to: string; text: string; userId: number | null; channel: string; messageId: string | null }
  'message.failed': {
    to: string
    text: string
    userId: number | null
    channel: string
    error: string
    permanent: boolean
  }
  'job.dead': { jobId: number; name: string; attempts: number; lastError: string | null }
  'server.started': { uri: string }
  'server.stopping': { reason: string }
}

export type EventName = keyof KronusEvents & string

/** An event as stored in the event log. */
export interface RecordedEvent<N extends EventName = EventName> {
  id: number
  type: N
  userId: number | null
  payload: KronusEvents[N]
  createdAt: number
}
