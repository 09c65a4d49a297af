import type { Knex } from 'knex'
import { duressWordProblem, hashDuressWord } from '../alarms/duress.js'
import { User } from '../db/models/index.js'
import { NotFoundError, ValidationError } from '../domain/errors.js'
import { toRfc3339 } from '../util/time.js'
import { inTransaction, type ServiceContext } from './context.js'

/**
 * How an alarm reaches a user's emergency contacts until one of them acknowledges:
 * `all` alerts every contact at once, `ordered` adds the next contact each step while the
 * earlier ones stay on the alarm; `step_minutes` is how long to wait for an acknowledgement
 * before the next step or a reminder; `repeats` how many reminders contacts who have not
 * acknowledged get; `voice_calls` whether a contact is called when a text did not reach
 * them or went unanswered for a step.
 */
export type EscalationMode = 'all' | 'ordered'

export interface EscalationSettings {
  mode: EscalationMode
  step_minutes: number
  repeats: number
  voice_calls: boolean
}

export const ESCALATION_MODES: readonly EscalationMode[] = ['all', 'ordered']

/** What every user has until they change it (migration 0013: a user without a row has these). */
export const DEFAULT_ESCALATION: Readonly<EscalationSettings> = Object.freeze({
  mode: 'all',
  step_minutes: 10,
  repeats: 3,
  voice_calls: false
})

/** The bounds the REST route checks and this service enforces again for other callers. */
export const ESCALATION_BOUNDS = {
  step_minutes: { min: 1, max: 120 },
  repeats: { min: 0, max: 5 }
} as const

export type EscalationPatch = Partial<EscalationSettings> & {
  /** Sets the user's duress word (kept hashed), or removes it with null. Write-only. */
  duress_word?: string | null
}

/**
 * A user's settings as the API shows them; `updated_at` is null while the user has the
 * defaults. The duress word is never shown: only whether one is set.
 */
export interface EscalationView extends EscalationSettings {
  user_id: number
  duress_word_set: boolean
  updated_at: string | null
}

interface EscalationRow {
  user_id: number
  mode: string
  step_minutes: number | string
  repeats: number | string
  voice_calls: boolean | number
  duress_word_hash?: string | null
  created_at: number | string
  updated_at: number | string
}

function fromRow(row: EscalationRow): EscalationSettings {
  return {
    mode: row.mode === 'ordered' ? 'ordered' : 'all',
    step_minutes: Number(row.step_minutes),
    repeats: Number(row.repeats),
    // SQLite stores booleans as 0/1.
    voice_calls: Boolean(row.voice_calls)
  }
}

/**
 * The escalation settings that apply to a user now: their row, or the defaults when they
 * never set any. The alarm engine calls this when it raises an alarm and copies the result
 * onto the alarm; a user who does not exist (any more) gets the defaults too, so an alarm
 * raised for a user deleted a moment ago still escalates.
 */
export async function effectiveEscalation(db: Knex | Knex.Transaction, userId: number): Promise<EscalationSettings> {
  const row = (await db('escalation_settings').where({ user_id: userId }).first()) as EscalationRow | undefined
  return row ? fromRow(row) : { ...DEFAULT_ESCALATION }
}

function assertWithinBounds(settings: EscalationSettings): void {
  if (!ESCALATION_MODES.includes(settings.mode)) throw new ValidationError('"mode" must be one of all, ordered')
  for (const field of ['step_minutes', 'repeats'] as const) {
    const { min, max } = ESCALATION_BOUNDS[field]
    const value = settings[field]
    if (!Number.isInteger(value) || value < min || value > max)
      throw new ValidationError(`"${field}" must be an integer from ${min} to ${max}`)
  }
  if (typeof settings.voice_calls !== 'boolean') throw new ValidationError('"voice_calls" must be a boolean')
}

export class EscalationService {
  constructor(private readonly ctx: ServiceContext) {}

  /** A user's settings, with the defaults for a user who never set them; 404 for an unknown user. */
  async get(userId: number, trx?: Knex.Transaction): Promise<EscalationView> {
    const db = trx ?? this.ctx.knex
    if (!(await User.query(db).findById(userId))) throw new NotFoundError(`user ${userId} not found`)
    return this.#view(db, userId)
  }

  /**
   * Changes some of a user's settings; the others keep their current (or default) value.
   * The next alarm raised uses them; an alarm already raised keeps the settings it was
   * raised with.
   */
  async update(userId: number, patch: EscalationPatch, trx?: Knex.Transaction): Promise<EscalationView> {
    const fields: EscalationPatch = {}
    for (const key of ['mode', 'step_minutes', 'repeats', 'voice_calls'] as const) {
      if (patch[key] !== undefined) (fields as Record<string, unknown>)[key] = patch[key]
    }
    const duress = patch.duress_word
    if (Object.keys(fields).length === 0 && duress === undefined)
      throw new ValidationError('no updatable field given (mode, step_minutes, repeats, voice_calls, duress_word)')
    let duressHash: string | null | undefined
    if (typeof duress === 'string') {
      const problem = duressWordProblem(duress)
      if (problem) throw new ValidationError(problem)
      duressHash = hashDuressWord(duress)
    } else if (duress === null) duressHash = null
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      // Locked so a concurrent delete of the user cannot slip between this check and the write.
      const user = await User.query(trx).findById(userId).forUpdate()
      if (!user) throw new NotFoundError(`user ${userId} not found`)
      const merged: EscalationSettings = { ...(await effectiveEscalation(trx, userId)), ...fields }
      assertWithinBounds(merged)
      const now = this.ctx.clock.now()
      const duressColumn = duressHash === undefined ? {} : { duress_word_hash: duressHash }
      await trx('escalation_settings')
        .insert({ user_id: userId, ...merged, ...duressColumn, created_at: now, updated_at: now })
        .onConflict('user_id')
        .merge([
          'mode',
          'step_minutes',
          'repeats',
          'voice_calls',
          ...(duressHash === undefined ? [] : ['duress_word_hash']),
          'updated_at'
        ])
      return this.#view(trx, userId)
    })
  }

  async #view(db: Knex | Knex.Transaction, userId: number): Promise<EscalationView> {
    const row = (await db('escalation_settings').where({ user_id: userId }).first()) as EscalationRow | undefined
    const settings = row ? fromRow(row) : { ...DEFAULT_ESCALATION }
    return {
      user_id: userId,
      ...settings,
      duress_word_set: Boolean(row?.duress_word_hash),
      updated_at: row ? toRfc3339(Number(row.updated_at)) : null
    }
  }
}
