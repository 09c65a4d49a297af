/*
 * Every job key, lane and idempotency key the core writes, built here and nowhere else.
 * Their string values are stored (jobs.live_key, jobs.job_key, jobs.lane,
 * probes.start_key), and a database written by an earlier version must keep matching
 * them: never change what one of these returns.
 */

/** The probe.fire job of one user's fire: a second scheduler or a retried tick cannot enqueue it twice. */
export function probeFireKey(userId: number, fireAt: number): string {
  return `probe.fire:${userId}:${fireAt}`
}

/** probes.start_key of a scheduled probe: a fire run twice starts one probe. */
export function scheduledProbeStartKey(userId: number, fireAt: number): string {
  return `fire:${userId}:${fireAt}`
}

/** probes.start_key of an on-demand probe: a request run twice starts one probe. */
export function onDemandProbeStartKey(requestId: string): string {
  return `on_demand:${requestId}`
}

/** A probe's timer, set once per retry: re-arming a timer that is still live is a no-op. */
export function probeFollowUpKey(probeId: number, retry: number): string {
  return `probe.follow_up:${probeId}:${retry}`
}

/** The text that asks the user of a new probe. */
export function probeAskTextKey(probeId: number): string {
  return `probe:${probeId}:ask`
}

/** The text of a probe's `retry`-th follow-up (1 for the first). */
export function probeFollowUpTextKey(probeId: number, retry: number): string {
  return `probe:${probeId}:follow_up:${retry}`
}

/** The message.send job of a text sent with an idempotency key (a caller's key, such as probeAskTextKey). */
export function messageSendKey(textKey: string): string {
  return `message:${textKey}`
}

/** One fire of a plugin's cron schedule. */
export function cronFireKey(jobName: string, fireAt: number): string {
  return `cron:${jobName}:${fireAt}`
}

/** The lane of a durable subscriber's deliveries for one user (or for events about no user), which keeps them in order. */
export function eventDeliveryLane(subscriber: string, userId: number | null | undefined): string {
  return `events:${subscriber}:${userId ?? 'global'}`
}

/* The alarm engine's keys and refs (message_sends.ref holds the refs: they never change either). */

/** The ref of every alert text and call to one contact of an alarm. */
export function alarmContactRef(alarmContactId: number): string {
  return `alarm-contact:${alarmContactId}`
}

/** The ref of the texts to the user about their alarm. */
export function alarmUserRef(alarmId: number): string {
  return `alarm-user:${alarmId}`
}

/** The alarm_contacts id a ref names, or null when it is no alarm contact's ref. */
export function alarmContactIdOf(ref: string | null | undefined): number | null {
  const match = /^alarm-contact:(\d+)$/.exec(ref ?? '')
  return match ? Number(match[1]) : null
}

/** The timer of an alarm's `tick`-th escalation step (1 for the first after the alerts). */
export function alarmStepKey(alarmId: number, tick: number): string {
  return `alarm.step:${alarmId}:${tick}`
}

/** One text of an alarm, named by what it is (e.g. `contact:12:alert`, `user:report`). */
export function alarmTextKey(alarmId: number, what: string): string {
  return `alarm:${alarmId}:${what}`
}

/** One call of an alarm to one contact. */
export function alarmCallKey(alarmContactId: number, what: string): string {
  return `alarm-contact:${alarmContactId}:${what}`
}

/** The ref of a check-in's texts (the ask and its follow-ups). */
export function probeTextRef(probeId: number): string {
  return `probe:${probeId}`
}

/* Emergency contacts' consent (issue 15). */

/** The ref of the texts to a contact about being an emergency contact (the invitation, the thanks). */
export function contactInviteRef(contactId: number): string {
  return `contact-invite:${contactId}`
}

/** The invitation text sent to a contact at `invitedAt`: a retried request sends it once. */
export function contactInviteTextKey(contactId: number, invitedAt: number): string {
  return `contact-invite:${contactId}:${invitedAt}`
}

/** A text about a contact's answer (`agreed`, `refused`, to the contact or the user) at `at`. */
export function contactConsentTextKey(contactId: number, what: string, at: number): string {
  return `contact-consent:${contactId}:${what}:${at}`
}

/** The job that ends one pause of a user (paused_until, epoch ms): a new pause cancels the old one's by this key. */
export function pauseEndKey(userId: number, pausedUntil: number): string {
  return `probe.pause_end:${userId}:${pausedUntil}`
}

/** The text telling the user that their pause until `pausedUntil` is over. */
export function pauseEndTextKey(userId: number, pausedUntil: number): string {
  return `pause:${userId}:${pausedUntil}:ended`
}

/** The text telling one emergency contact of a long pause. */
export function pauseContactTextKey(userId: number, pausedUntil: number, contactId: number): string {
  return `pause:${userId}:${pausedUntil}:contact:${contactId}`
}

/* The watchdog (issue 18). */

/** The text telling admin `userId` that `condition`, started at `startedAt`, started (`degraded`) or ended (`recovered`). */
export function watchdogTextKey(
  condition: string,
  startedAt: number,
  what: 'degraded' | 'recovered',
  userId: number
): string {
  return `watchdog:${condition}:${startedAt}:${what}:${userId}`
}
