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
/** What raised an alarm. */
export type AlarmTrigger = 'said_no' | 'distress' | 'no_answer' | 'panic' | 'unreachable' | 'duress'

export interface KronusEvents {
  'user.created': { userId: number; isAdmin: boolean }
  'user.updated': { userId: number; fields: string[] }
  'user.deleted': { userId: number }
  'contact.created': { userId: number; contactId: number; isEmergencyContact: boolean }
  'contact.updated': { userId: number; contactId: number; fields: string[] }
  'contact.deleted': { userId: number; contactId: number }
  /** An emergency contact was texted an invitation (YES <code> to agree, STOP to refuse). */
  'contact.invited': { userId: number; contactId: number }
  'contact.agreed': { userId: number; contactId: number }
  'contact.refused': { userId: number; contactId: number }
  'probe_settings.updated': { userId: number; active: boolean; cronExpression: string; nextFireAt: number | null }
  /** No scheduled check-in until pausedUntil (epoch ms); contactsTold: the pause is over 7 days and they were texted. */
  'probe_settings.paused': { userId: number; pausedUntil: number; contactsTold: boolean }
  /** A pause is over: 'ended' at its time, 'resumed' ended early by the user. */
  'probe_settings.resumed': { userId: number; reason: 'ended' | 'resumed' }
  'probe.started': {
    userId: number
    probeId: number
    origin: 'scheduled' | 'on_demand'
    maxRetries: number
    waitTimeInMinutes: number
  }
  'probe.follow_up_sent': { userId: number; probeId: number; retryCount: number }
  'probe.reply_received': {
    userId: number
    probeId: number
    /** The text as sent; empty for an answer through the check-in link. */
    text: string
    understood: boolean
    /** How it came: absent (a text) or 'link' (the user's check-in link). */
    via?: 'link'
  }
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
  'message.sent': {
    to: string
    text: string
    userId: number | null
    channel: string
    messageId: string | null
    /** What the text was for, as the sender named it (e.g. `alarm-contact:12`); absent or null for none. */
    ref?: string | null
  }
  'message.failed': {
    to: string
    text: string
    userId: number | null
    channel: string
    error: string
    permanent: boolean
    ref?: string | null
  }
  /** A text the provider reports as handed to the phone (a delivery receipt). */
  'message.delivered': { to: string; userId: number | null; channel: string; messageId: string; ref: string | null }
  /** A text the provider accepted but could not deliver (30003 unreachable, 30006 landline, ...). */
  'message.undelivered': {
    to: string
    userId: number | null
    channel: string
    messageId: string
    ref: string | null
    status: 'undelivered' | 'failed'
    errorCode: number | null
    error: string
  }
  /** A voice call the provider accepted. */
  'call.placed': { to: string; userId: number | null; channel: string; callId: string | null; ref: string | null }
  'call.failed': {
    to: string
    userId: number | null
    channel: string
    ref: string | null
    error: string
    permanent: boolean
  }
  /** The person called pressed keys (Gather): "1" acknowledges an alarm. */
  'call.answered': { to: string; channel: string; callId: string | null; ref: string | null; digits: string }
  'alarm.raised': {
    alarmId: number
    userId: number
    trigger: AlarmTrigger
    /** The person's own words that raised it, or null. */
    quote: string | null
    code: string
    probeId: number | null
    contactIds: number[]
  }
  'alarm.escalated': {
    alarmId: number
    userId: number
    /** What happened: the next contact added (ordered mode), a reminder, a call, or the end of the steps. */
    action: 'next_contact' | 'reminder' | 'call' | 'exhausted'
    step: number
    contactIds: number[]
  }
  'alarm.acknowledged': { alarmId: number; userId: number; contactId: number | null; name: string; via: 'sms' | 'call' }
  'alarm.resolved': {
    alarmId: number
    userId: number
    /** user_ok: the user answered OK; contact_safe: a contact sent SAFE <code>; admin: through the API. */
    reason: 'user_ok' | 'contact_safe' | 'admin'
    by: string
  }
  'limit.reached': {
    /** Which limit of the configuration (`limits.textsPerUserPerDay`, `limits.textsPerServerPerDay`). */
    limit: 'texts_per_user_per_day' | 'texts_per_server_per_day'
    /** The user whose allowance is spent; null for the server's. */
    userId: number | null
    /** The limit's value: texts in 24 hours. */
    max: number
    /** True: a text was refused; false: texts that are never refused went past the server's limit. */
    refused: boolean
  }
  /** The user created (or rotated: the old link stops working) their check-in link. */
  'checkin_link.created': { userId: number; rotated: boolean }
  /**
   * The user's check-in link was pressed with no check-in waiting: proof of life that
   * satisfies their next scheduled check-in if it falls within checkin_window_minutes.
   */
  'checkin.proof_of_life': { userId: number; at: number }
  'job.dead': { jobId: number; name: string; attempts: number; lastError: string | null }
  'server.started': { uri: string }
  'server.stopping': { reason: string }
  /**
   * The watchdog saw a condition start that keeps Kronus from doing its work (no way to
   * text, texts failing, the job queue behind, a plugin in trouble): once per start.
   */
  'kronus.degraded': {
    /** Which condition: `no_channel`, `sends_failing:<channel>`, `account:<channel>`, `queue_behind`, `plugin:<name>`. */
    condition: string
    /** What is wrong, in words for the operator. */
    reason: string
    /** When the watchdog saw it start (epoch ms). */
    since: number
  }
  /** A condition of a kronus.degraded is over: once per end. */
  'kronus.recovered': {
    condition: string
    /** The reason its kronus.degraded gave. */
    reason: string
    /** When it started (epoch ms). */
    since: number
    /** How long it lasted, in ms, as the watchdog saw it. */
    durationMs: number
  }
}

export type EventName = keyof KronusEvents & string

/** An event about to be recorded (EventLog.recordEach): its type, payload and whether it is hidden from its user. */
export type NewEvent = {
  [N in EventName]: { type: N; payload: KronusEvents[N]; hiddenFromUser?: boolean }
}[EventName]

/** An event as stored in the event log. */
export interface RecordedEvent<N extends EventName = EventName> {
  id: number
  type: N
  userId: number | null
  payload: KronusEvents[N]
  /** About its user but never shown to them (a duress alarm's): see RecordOptions in log.ts. */
  hiddenFromUser: boolean
  createdAt: number
}
