import type { Knex } from 'knex'
import type { ProbeStatusName } from '../domain/constants.js'
import type { OnDemandRequest } from '../probes/on-demand.js'
import type { PauseRequest, ResumeOutcome } from '../services/probe-settings.js'

/*
 * What a plugin may read and change of Kronus's own records. Each facade offers what the
 * built-in plugins need and no more; every method takes an optional trailing transaction,
 * the one `kronus.db.transaction` hands out, so a plugin's writes, events and jobs commit
 * together. Records come back as plain read-only views, not models.
 */

export interface PluginUser {
  readonly id: number
  readonly first_name: string
  readonly last_name: string
  readonly email: string
  readonly phone_number: string
}

export interface PluginContact {
  readonly id: number
  readonly user_id: number
  readonly first_name: string
  readonly last_name: string
  readonly phone_number: string
  readonly email: string | null
  readonly is_emergency_contact: boolean
}

export interface PluginProbe {
  readonly id: number
  readonly user_id: number
  readonly status: ProbeStatusName
}

export interface PluginUsers {
  /** The user, or null when there is none (any more). */
  find(userId: number, trx?: Knex.Transaction): Promise<PluginUser | null>
  /**
   * Records that the user texted STOP (true) or START (false): carriers block texts to a
   * number that opted out, so `resume` by text then changes nothing until START.
   */
  setTextsOptedOut(userId: number, optedOut: boolean, trx?: Knex.Transaction): Promise<void>
}

/** What a pause or resume by text left true, in the user's zone, ready for a reply. */
export interface PluginCheckInState {
  /** "Sun 10 Jan 2027 at 00:00", or null when not paused. */
  readonly pausedUntil: string | null
  /** When the next scheduled check-in is sent ("today at 18:00", "tomorrow at 07:00", "on Sun 10 Jan 2027 at 18:00"), or null when none will be. */
  readonly nextCheckIn: string | null
  readonly active: boolean
}

export interface PluginContacts {
  /** The user's emergency contacts, in the order they were marked. */
  emergencyContacts(userId: number, trx?: Knex.Transaction): Promise<PluginContact[]>
}

export interface PluginProbes {
  /** The probe, or null when there is none (any more). */
  find(probeId: number, trx?: Knex.Transaction): Promise<PluginProbe | null>
  /** Whether the user's scheduled probes are on; false for a user who has no settings. */
  isActive(userId: number, trx?: Knex.Transaction): Promise<boolean>
  /**
   * Turns the user's probes on or off, as the user's own settings change would (recorded
   * as probe_settings.updated); turning them off also cancels the probe waiting for an answer.
   */
  setActive(userId: number, active: boolean, trx?: Knex.Transaction): Promise<void>
  /**
   * Asks for a probe now or in a few minutes, under the same rules as the API. Throws
   * ForbiddenError (no emergency contact), ConflictError (a probe is waiting) or
   * RateLimitedError (the allowance of 24 hours is used up). `merged`: added to a delayed
   * check-in already asked for, starting at startsAt, and not charged; `checkInWaiting`: a
   * check-in waits now, and a delayed one coming due while it still waits is merged into it.
   */
  requestOnDemand(
    userId: number,
    request: OnDemandRequest,
    trx?: Knex.Transaction
  ): Promise<{ startsAt: number; merged: boolean; checkInWaiting: boolean }>
  /**
   * Pauses the user's scheduled check-ins for some hours or until a local date begins (the
   * pause of probe_settings.paused_until). Throws ValidationError for a time in the past
   * or more than 365 days ahead.
   */
  pause(userId: number, request: PauseRequest, trx?: Knex.Transaction): Promise<PluginCheckInState>
  /**
   * Ends a pause and turns check-ins on when they are off; 'opted_out' (nothing changed)
   * after the user texted STOP. Throws ForbiddenError when turning on needs an emergency contact.
   */
  resume(userId: number, trx?: Knex.Transaction): Promise<{ outcome: ResumeOutcome } & PluginCheckInState>
  /** Whether the contact was alerted about the probe (an emergency probe links them). */
  isContactAlerted(probeId: number, contactId: number, trx?: Knex.Transaction): Promise<boolean>
  /** Records that the contact is being alerted about the probe; returns the emergency probe's id. */
  recordContactAlerted(probeId: number, contactId: number, trx?: Knex.Transaction): Promise<number>
}
