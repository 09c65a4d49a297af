import type { Knex } from 'knex'
import { ProbeSettings } from '../db/models/index.js'
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js'
import { type CheckInSchedule, nextCheckInAt } from '../probes/pause.js'
import { nextFireAfter } from '../scheduling/cron.js'
import { minIntervalProblem } from '../scheduling/min-interval-check.js'
import { type QuietHours, quietHoursOf } from '../util/quiet-hours.js'
import { fromLocal } from '../util/time.js'
import type { ContactService } from './contacts.js'
import { inTransaction, type ServiceContext } from './context.js'

export interface ProbeSettingsPatch {
  active?: boolean
  cron_expression?: string
  max_retries?: number
  wait_time_in_minutes?: number
  /** IANA zone for this user's schedule; null falls back to kronus.cron.timeZone. */
  time_zone?: string | null
  /** Minutes before a scheduled check-in within which a press of the check-in link answers it (0 = off). */
  checkin_window_minutes?: number
  /** No scheduled check-in or follow-up between these local times; null: none. */
  quiet_hours?: QuietHours | null
  /** No scheduled check-in before this (epoch ms, in the future, at most MAX_PAUSE_DAYS ahead); null ends a pause. */
  paused_until?: number | null
}

/** checkin_window_minutes: 0 (off) to one day. */
export const CHECKIN_WINDOW_MAX_MINUTES = 1440

/** Ends a user's pending probe as cancelled; the probe lifecycle provides it. */
export interface PendingProbeCanceller {
  cancelPending(userId: number, reason: string, trx?: Knex.Transaction): Promise<boolean>
}

/** What starting and ending a pause does besides the column (ProbePauses provides it). */
export interface PauseKeeper {
  started(trx: Knex.Transaction, userId: number, pausedUntil: number, previous: number | null): Promise<void>
  ended(trx: Knex.Transaction, userId: number, previous: number): Promise<void>
}

/** A pause asked for by text: for a number of hours, or until a date in the user's zone. */
export type PauseRequest = { hours: number } | { date: { year: number; month: number; day: number } }

/** What `resume` / `on` by text did: the pause ended, check-ins were turned on, nothing to do, or nothing done. */
export type ResumeOutcome = 'resumed' | 'turned_on' | 'already_on' | 'opted_out'

export const MAX_PAUSE_DAYS = 365
const DAY = 24 * 3600_000
const UPDATABLE = [
  'active',
  'cron_expression',
  'max_retries',
  'wait_time_in_minutes',
  'time_zone',
  'quiet_hours',
  'paused_until',
  'checkin_window_minutes'
] as const

export class ProbeSettingsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly contacts: ContactService,
    private readonly probes: PendingProbeCanceller,
    private readonly pauses: PauseKeeper
  ) {}

  async get(userId: number, trx?: Knex.Transaction): Promise<ProbeSettings> {
    const settings = await ProbeSettings.query(trx ?? this.ctx.knex).findOne({ user_id: userId })
    if (!settings) throw new NotFoundError(`user ${userId} not found`)
    return settings
  }

  timeZoneOf(settings: Pick<ProbeSettings, 'time_zone'>): string {
    return settings.time_zone ?? this.ctx.config.kronus.cron.timeZone
  }

  /** The next cron fire strictly after `after`, or null while probes are off (next_fire_at: quiet hours and pauses apply when it comes). */
  nextFire(settings: Pick<ProbeSettings, 'active' | 'cron_expression' | 'time_zone'>, after: number): number | null {
    if (!settings.active) return null
    return nextFireAfter(settings.cron_expression, after, this.timeZoneOf(settings))
  }

  /** When the next scheduled check-in is really sent: after a pause, out of quiet hours. */
  nextCheckIn(settings: ProbeSettings): number | null {
    return nextCheckInAt(this.#schedule(settings), this.ctx.clock.now())
  }

  #schedule(settings: ProbeSettings): CheckInSchedule {
    return {
      active: settings.active,
      cron_expression: settings.cron_expression,
      timeZone: this.timeZoneOf(settings),
      quietHours: quietHoursOf(settings),
      paused_until: settings.paused_until
    }
  }

  /**
   * Applies a change and recomputes the next fire in the same write, so a new cron or a
   * toggle takes effect at the scheduler's next tick.
   */
  async update(
    userId: number,
    patch: ProbeSettingsPatch,
    trx?: Knex.Transaction
  ): Promise<{ before: ProbeSettings; after: ProbeSettings }> {
    const fields: Partial<ProbeSettings> = {}
    for (const key of UPDATABLE) {
      if (patch[key] === undefined) continue
      if (key === 'quiet_hours') {
        fields.quiet_hours_start = patch.quiet_hours?.start ?? null
        fields.quiet_hours_end = patch.quiet_hours?.end ?? null
      } else (fields as Record<string, unknown>)[key] = patch[key]
    }
    if (Object.keys(fields).length === 0) {
      throw new ValidationError(`no updatable field given (${UPDATABLE.join(', ')})`)
    }
    if (patch.quiet_hours && patch.quiet_hours.start === patch.quiet_hours.end) {
      throw new ValidationError('quiet_hours.start and quiet_hours.end must differ')
    }
    if (fields.cron_expression !== undefined) this.#assertMinInterval(fields.cron_expression)
    const now = this.ctx.clock.now()
    if (typeof fields.paused_until === 'number') {
      if (fields.paused_until <= now) throw new ValidationError('paused_until must be in the future')
      if (fields.paused_until > now + MAX_PAUSE_DAYS * DAY)
        throw new ValidationError(`paused_until must be at most ${MAX_PAUSE_DAYS} days ahead`)
    }
    const window = fields.checkin_window_minutes
    if (window !== undefined && !(Number.isInteger(window) && window >= 0 && window <= CHECKIN_WINDOW_MAX_MINUTES))
      throw new ValidationError(`"checkin_window_minutes" must be an integer from 0 to ${CHECKIN_WINDOW_MAX_MINUTES}`)
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      // Locks the row (on PostgreSQL; SQLite has one writer anyway) so turning probes on and
      // removing the last emergency contact cannot pass their checks at the same time.
      const before = await ProbeSettings.query(trx).findOne({ user_id: userId }).forUpdate()
      if (!before) throw new NotFoundError(`user ${userId} not found`)
      const merged = { ...before, ...fields } as ProbeSettings
      if (merged.active && (await this.contacts.emergencyContacts(userId, trx)).length === 0) {
        throw new ForbiddenError('an emergency contact is required before probes can be turned on')
      }
      // Someone must have agreed to be alerted before check-ins start (alarms still reach pending contacts).
      if (merged.active && !before.active && !(await this.contacts.hasAgreedEmergencyContact(userId, trx))) {
        throw new ForbiddenError(
          'your emergency contacts have not agreed yet: probes can be turned on once one of them replies YES and their code to the invitation Kronus texted them'
        )
      }
      const scheduleChanged =
        fields.active !== undefined || fields.cron_expression !== undefined || fields.time_zone !== undefined
      if (scheduleChanged) fields.next_fire_at = this.nextFire(merged, now)
      fields.updated_at = now
      const after = await ProbeSettings.query(trx).patchAndFetchById(before.id, fields)
      await this.ctx.events.record(trx, 'probe_settings.updated', {
        userId,
        active: after.active,
        cronExpression: after.cron_expression,
        nextFireAt: after.next_fire_at
      })
      // Turning probes off also ends the probe waiting for an answer, in the same transaction.
      if (fields.active === false) await this.probes.cancelPending(userId, 'probes turned off', trx)
      // A pause that already ran out is no pause to replace or end.
      const running = before.paused_until !== null && before.paused_until > now ? before.paused_until : null
      if (typeof fields.paused_until === 'number' && fields.paused_until !== running)
        await this.pauses.started(trx, userId, fields.paused_until, running)
      else if (fields.paused_until === null && running !== null) await this.pauses.ended(trx, userId, running)
      return { before, after }
    })
  }

  /** A pause asked for by text; throws ValidationError for a time in the past or too far ahead. */
  async pause(userId: number, request: PauseRequest, trx?: Knex.Transaction): Promise<ProbeSettings> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const settings = await this.get(userId, trx)
      let until: number
      if ('hours' in request) until = this.ctx.clock.now() + request.hours * 3600_000
      else {
        const { year, month, day } = request.date
        // Until that day begins in the user's zone: check-ins resume on that day.
        until = fromLocal(year, month, day, 0, 0, this.timeZoneOf(settings))
      }
      return (await this.update(userId, { paused_until: until }, trx)).after
    })
  }

  /**
   * `resume` and `on` by text: ends a pause, and turns check-ins on when they are off.
   * After the user texted STOP nothing changes: carriers block every text to them until
   * they text START, so check-ins turned on would reach nobody. Throws ForbiddenError
   * when turning on needs an emergency contact.
   */
  async resume(userId: number, trx?: Knex.Transaction): Promise<{ outcome: ResumeOutcome; settings: ProbeSettings }> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const settings = await this.get(userId, trx)
      const user = await trx('users').select('sms_opted_out_at').where({ id: userId }).first()
      if (user?.sms_opted_out_at != null) return { outcome: 'opted_out', settings }
      const paused = settings.paused_until !== null && settings.paused_until > this.ctx.clock.now()
      if (!paused && settings.active) return { outcome: 'already_on', settings }
      const patch: ProbeSettingsPatch = { ...(paused ? { paused_until: null } : {}), active: true }
      const { after } = await this.update(userId, patch, trx)
      return { outcome: paused ? 'resumed' : 'turned_on', settings: after }
    })
  }

  /** A cron that fires more often than limits.minCheckInIntervalMinutes anywhere in its cycle is refused. */
  #assertMinInterval(cron: string): void {
    const problem = minIntervalProblem(cron, this.ctx.config.limits.minCheckInIntervalMinutes)
    if (problem) throw new ValidationError(problem)
  }
}
