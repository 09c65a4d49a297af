import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { pauseContactTextKey, pauseEndKey, pauseEndTextKey } from '../queue/keys.js'
import { nextFireAfter } from '../scheduling/cron.js'
import { afterQuietHours, describeLocalDateTime, describeWhen, type QuietHours } from '../util/quiet-hours.js'
import type { ProbeEventLog, ProbeJobQueue, ProbeMessenger } from './ports.js'

declare module '../queue/types.js' {
  interface KronusJobs {
    /** The end of a user's pause, set when the pause starts: the user is told when check-ins resume. */
    'probe.pause_end': { userId: number; pausedUntil: number }
  }
}

export const PAUSE_END_JOB = 'probe.pause_end'
/** A pause longer than this is told to the user's emergency contacts when it starts. */
export const PAUSE_TOLD_TO_CONTACTS_MS = 7 * 24 * 3600_000

/** The settings that decide when the next check-in is sent. */
export interface CheckInSchedule {
  active: boolean
  cron_expression: string
  timeZone: string
  quietHours: QuietHours | null
  paused_until: number | null
}

/**
 * When the next scheduled check-in is really sent after `after`: the cron's first fire at
 * or after the end of a pause, moved to the end of the quiet hours it falls in. Null while
 * check-ins are off (or the cron never fires again).
 */
export function nextCheckInAt(schedule: CheckInSchedule, after: number): number | null {
  if (!schedule.active) return null
  // A fire at the very moment a pause ends is sent (the fire rule skips fires before it).
  const from = schedule.paused_until !== null && schedule.paused_until > after ? schedule.paused_until - 1 : after
  const fire = nextFireAfter(schedule.cron_expression, from, schedule.timeZone)
  return fire === null ? null : afterQuietHours(fire, schedule.quietHours, schedule.timeZone)
}

export const pauseTexts = {
  /** To each emergency contact when a pause longer than a week starts. */
  toContact: (userName: string, until: string) =>
    `${userName} paused their Kronus check-ins until ${until}; you will not be alerted for missed check-ins until then.`,
  /** To the user when their pause ends. */
  ended: (next: string | null, active: boolean) =>
    !active
      ? 'Your Kronus pause is over, but your check-ins are off. Text ON to turn them back on.'
      : next === null
        ? 'Your Kronus pause is over. Your schedule has no check-in to send.'
        : `Your Kronus pause is over. Check-ins resume ${next}.`
} as const

export interface PauseQueue extends Pick<ProbeJobQueue, 'define' | 'enqueue'> {
  cancel(key: string, trx?: Knex.Transaction): Promise<boolean>
}

export interface ProbePausesDeps {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: PauseQueue
  events: ProbeEventLog
  messaging: ProbeMessenger
  /** Ends the check-in waiting when a pause starts. */
  lifecycle: { cancelPending(userId: number, reason: string, trx?: Knex.Transaction): Promise<boolean> }
  /** kronus.cron.timeZone, for users who set no zone. */
  defaultTimeZone: string
}

/**
 * What starting and ending a pause does besides the paused_until column, which
 * ProbeSettingsService writes: the durable job at the pause's end (which texts the user
 * when check-ins resume), the check-in waiting when it starts (cancelled: the user said
 * they will not answer), the contacts' text for a long pause, and the events.
 */
export class ProbePauses {
  constructor(private readonly deps: ProbePausesDeps) {}

  registerJobs(): void {
    this.deps.queue.define(PAUSE_END_JOB, async (payload) => {
      await this.end(payload)
    })
  }

  /** A pause until `pausedUntil` was written (replacing `previous`, if one was running). */
  async started(trx: Knex.Transaction, userId: number, pausedUntil: number, previous: number | null): Promise<void> {
    const { queue, clock, events, messaging, lifecycle } = this.deps
    const now = clock.now()
    if (previous !== null) await queue.cancel(pauseEndKey(userId, previous), trx)
    // The text that check-ins resume waits for the end of the user's quiet hours (a pause
    // until a date ends at midnight); check-ins themselves may start from pausedUntil.
    const row = await trx('probe_settings')
      .select('active', 'cron_expression', 'time_zone', 'quiet_hours_start', 'quiet_hours_end')
      .where({ user_id: userId })
      .first()
    const schedule = row ? this.scheduleOf(row) : null
    const tellAt = schedule ? afterQuietHours(pausedUntil, schedule.quietHours, schedule.timeZone) : pausedUntil
    await queue.enqueue(
      PAUSE_END_JOB,
      { userId, pausedUntil },
      { runAt: tellAt, key: pauseEndKey(userId, pausedUntil), userId },
      trx
    )
    await lifecycle.cancelPending(userId, 'check-ins paused', trx)
    const long = pausedUntil - now > PAUSE_TOLD_TO_CONTACTS_MS
    if (long) {
      const user = await trx('users').select('first_name', 'last_name').where({ id: userId }).first()
      const zone = schedule?.timeZone ?? this.deps.defaultTimeZone
      const contacts: Array<{ id: number | string; phone_number: string }> = await trx('contacts')
        .select('id', 'phone_number')
        .where({ user_id: userId, is_emergency_contact: true })
        .whereNull('sms_opted_out_at')
        .orderBy('id')
      const name = `${user?.first_name ?? ''} ${user?.last_name ?? ''}`.trim()
      const until = `${describeLocalDateTime(pausedUntil, zone)} (${zone})`
      await messaging.sendMany(
        contacts.map((contact) => ({
          to: contact.phone_number,
          text: pauseTexts.toContact(name, until),
          userId,
          key: pauseContactTextKey(userId, pausedUntil, Number(contact.id))
        })),
        trx
      )
    }
    await events.record(trx, 'probe_settings.paused', { userId, pausedUntil, contactsTold: long })
  }

  /** A pause was ended early (by the user, or by the pause being replaced with none). */
  async ended(trx: Knex.Transaction, userId: number, previous: number): Promise<void> {
    await this.deps.queue.cancel(pauseEndKey(userId, previous), trx)
    await this.deps.events.record(trx, 'probe_settings.resumed', { userId, reason: 'resumed' })
  }

  /** The pause-end job: clears the pause if it is still this one, and tells the user when check-ins resume. */
  async end({ userId, pausedUntil }: { userId: number; pausedUntil: number }): Promise<void> {
    const { knex, clock, messaging, events } = this.deps
    await knex.transaction(async (trx) => {
      const cleared = await trx('probe_settings')
        .where({ user_id: userId, paused_until: pausedUntil })
        .update({ paused_until: null, updated_at: clock.now() })
      if (cleared !== 1) return
      const row = await trx('probe_settings')
        .join('users', 'users.id', 'probe_settings.user_id')
        .select(
          'users.phone_number',
          'probe_settings.active',
          'probe_settings.cron_expression',
          'probe_settings.time_zone',
          'probe_settings.quiet_hours_start',
          'probe_settings.quiet_hours_end'
        )
        .where('probe_settings.user_id', userId)
        .first()
      await events.record(trx, 'probe_settings.resumed', { userId, reason: 'ended' })
      if (!row) return
      const schedule = this.scheduleOf(row)
      const next = nextCheckInAt(schedule, clock.now())
      await messaging.send(
        {
          to: row.phone_number,
          text: pauseTexts.ended(
            next === null ? null : describeWhen(next, clock.now(), schedule.timeZone),
            schedule.active
          ),
          userId,
          key: pauseEndTextKey(userId, pausedUntil)
        },
        trx
      )
    })
  }

  /** A probe_settings row (raw or model) as the schedule nextCheckInAt reads. */
  scheduleOf(row: {
    active: boolean | number
    cron_expression: string
    time_zone: string | null
    quiet_hours_start?: string | null
    quiet_hours_end?: string | null
    paused_until?: number | string | null
  }): CheckInSchedule {
    return {
      active: Boolean(row.active),
      cron_expression: row.cron_expression,
      timeZone: row.time_zone ?? this.deps.defaultTimeZone,
      quietHours:
        row.quiet_hours_start && row.quiet_hours_end
          ? { start: row.quiet_hours_start, end: row.quiet_hours_end }
          : null,
      paused_until: row.paused_until == null ? null : Number(row.paused_until)
    }
  }
}
