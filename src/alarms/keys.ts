/*
 * The job keys, text keys and refs of the alarm engine. Their values are stored (jobs,
 * message_sends.ref) and a database written by an earlier version must keep matching
 * them: never change what one of these returns. (They live here rather than in
 * src/queue/keys.ts because only the alarm engine reads or writes them.)
 */

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
