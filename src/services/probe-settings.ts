import type { Knex } from 'knex'
import { ProbeSettings } from '../db/models/index.js'
import { ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js'
import { nextFireAfter } from '../scheduling/cron.js'
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
}

/** checkin_window_minutes: 0 (off) to one day. */
export const CHECKIN_WINDOW_MAX_MINUTES = 1440

/** Ends a user's pending probe as cancelled; the probe lifecycle provides it. */
export interface PendingProbeCanceller {
  cancelPending(userId: number, reason: string, trx?: Knex.Transaction): Promise<boolean>
}

export class ProbeSettingsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly contacts: ContactService,
    private readonly probes: PendingProbeCanceller
  ) {}

  async get(userId: number, trx?: Knex.Transaction): Promise<ProbeSettings> {
    const settings = await ProbeSettings.query(trx ?? this.ctx.knex).findOne({ user_id: userId })
    if (!settings) throw new NotFoundError(`user ${userId} not found`)
    return settings
  }

  timeZoneOf(settings: Pick<ProbeSettings, 'time_zone'>): string {
    return settings.time_zone ?? this.ctx.config.kronus.cron.timeZone
  }

  /** The next fire strictly after `after`, or null while probes are off. */
  nextFire(settings: Pick<ProbeSettings, 'active' | 'cron_expression' | 'time_zone'>, after: number): number | null {
    if (!settings.active) return null
    return nextFireAfter(settings.cron_expression, after, this.timeZoneOf(settings))
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
    for (const key of [
      'active',
      'cron_expression',
      'max_retries',
      'wait_time_in_minutes',
      'time_zone',
      'checkin_window_minutes'
    ] as const) {
      if (patch[key] !== undefined) (fields as Record<string, unknown>)[key] = patch[key]
    }
    if (Object.keys(fields).length === 0) {
      throw new ValidationError(
        'no updatable field given (active, cron_expression, max_retries, wait_time_in_minutes, time_zone, checkin_window_minutes)'
      )
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
      const now = this.ctx.clock.now()
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
      return { before, after }
    })
  }
}
