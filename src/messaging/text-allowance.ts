import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import type { EventLog } from '../events/log.js'

/**
 * How a text stands against the daily text limits (`limits.textsPerUserPerDay`,
 * `limits.textsPerServerPerDay`):
 * - `exempt`: an alarm's text (priority `emergency`) or an alarm's reply: never counted,
 *   never refused;
 * - `counted`: always sent, and counted;
 * - `refusable`: counted when sent, and not sent when the allowance is spent.
 */
export type AllowanceClass = 'exempt' | 'counted' | 'refusable'

export type LimitName = 'texts_per_user_per_day' | 'texts_per_server_per_day'

export interface TextLimits {
  /** Texts (alarms' excluded) one user may be sent in 24 hours. */
  textsPerUserPerDay: number
  /** Texts (alarms' excluded) the whole server may send in 24 hours; null for no limit. */
  textsPerServerPerDay: number | null
}

export interface AllowanceText {
  userId: number | null
  allowance: AllowanceClass
}

const HOUR = 3600_000
const DAY = 24 * HOUR
const SERVER = 'server'

function userSubject(userId: number): string {
  return `user:${userId}`
}

/**
 * The rolling 24-hour text counters. A text counts when it is queued, in the caller's
 * transaction (a rolled-back change counts nothing), in the hour it was queued: it
 * counts for the next 23 to 24 hours. Counts are kept per user and hour (and for the
 * server, only while a server limit is set), so a fan-out costs one upsert per user, in
 * multi-row statements, and no read unless some of its texts are refusable.
 */
export class TextAllowance {
  constructor(private readonly deps: { clock: Clock; events: EventLog; logger: Logger; limits: TextLimits }) {}

  /**
   * Admits texts about to be queued, in order, and counts those that go: returns for each
   * whether it may be queued. Exempt and counted texts always may; a refusable one may
   * while its user's and the server's counts (the texts before it in `texts` included)
   * are under their limits. A refusal raises `limit.reached` once per limit and subject
   * in 24 hours, with a warning in the log.
   */
  async admit(trx: Knex.Transaction, texts: AllowanceText[]): Promise<boolean[]> {
    const { limits } = this.deps
    const now = this.deps.clock.now()
    const serverLimited = limits.textsPerServerPerDay !== null
    const refusableUsers = new Set<number>()
    let anyRefusable = false
    for (const text of texts) {
      if (text.allowance !== 'refusable') continue
      anyRefusable = true
      if (text.userId !== null) refusableUsers.add(text.userId)
    }
    const subjects = [...refusableUsers].map(userSubject)
    if (anyRefusable && serverLimited) subjects.push(SERVER)
    const counts = await this.#counts(trx, subjects, now)
    const added = new Map<string, number>()
    const bump = (subject: string) => {
      counts.set(subject, (counts.get(subject) ?? 0) + 1)
      added.set(subject, (added.get(subject) ?? 0) + 1)
    }
    const refusedBy = new Map<string, { limit: LimitName; userId: number | null; max: number }>()
    let countedOverServer = false
    const admitted = texts.map((text) => {
      if (text.allowance === 'exempt') return true
      const subject = text.userId === null ? null : userSubject(text.userId)
      if (text.allowance === 'refusable') {
        const refusal = this.#refusal(counts, subject, text.userId)
        if (refusal) {
          refusedBy.set(refusal.limit === 'texts_per_user_per_day' ? subject! : SERVER, refusal)
          return false
        }
      }
      if (subject !== null) bump(subject)
      if (serverLimited) bump(SERVER)
      return true
    })
    await this.#add(trx, added, now)
    if (serverLimited && added.has(SERVER) && texts.some((t) => t.allowance === 'counted')) {
      // Counted texts are never refused; the operator still hears once a day that the server's limit is passed.
      const server = (await this.#counts(trx, [SERVER], now)).get(SERVER) ?? 0
      countedOverServer = server > limits.textsPerServerPerDay!
    }
    for (const refusal of refusedBy.values()) await this.#reached(trx, refusal, true, now)
    if (countedOverServer && !refusedBy.has(SERVER)) {
      await this.#reached(
        trx,
        { limit: 'texts_per_server_per_day', userId: null, max: limits.textsPerServerPerDay! },
        false,
        now
      )
    }
    return admitted
  }

  /**
   * Texts that may still be sent to or about this user in the next moment: the smaller of
   * what is left of their own 24-hour allowance and of the server's.
   */
  async left(trx: Knex.Transaction | Knex, userId: number): Promise<number> {
    const { limits } = this.deps
    const subjects = [userSubject(userId)]
    if (limits.textsPerServerPerDay !== null) subjects.push(SERVER)
    const counts = await this.#counts(trx, subjects, this.deps.clock.now())
    const own = limits.textsPerUserPerDay - (counts.get(userSubject(userId)) ?? 0)
    const server = limits.textsPerServerPerDay === null ? own : limits.textsPerServerPerDay - (counts.get(SERVER) ?? 0)
    return Math.max(0, Math.min(own, server))
  }

  /** Raises the event (and warning) of a refusal that happened outside admit(), e.g. a command's reply. */
  async refused(trx: Knex.Transaction, userId: number): Promise<void> {
    const now = this.deps.clock.now()
    const counts = await this.#counts(trx, [userSubject(userId), SERVER], now)
    const refusal = this.#refusal(counts, userSubject(userId), userId)
    if (refusal) await this.#reached(trx, refusal, true, now)
  }

  /**
   * Deletes counts older than 24 hours, an hour's rows per statement (no larger than the
   * fan-out that wrote them); returns how many rows went.
   */
  async prune(knex: Knex): Promise<number> {
    const cutoff = this.deps.clock.now() - DAY
    const hours: Array<{ hour: number | string }> = await knex('text_counts')
      .distinct('hour')
      .where('hour', '<=', cutoff)
    let total = 0
    for (const { hour } of hours)
      total += await knex('text_counts')
        .where({ hour: Number(hour) })
        .delete()
    return total
  }

  /** Which limit refuses one more text for this subject now, if any. */
  #refusal(
    counts: Map<string, number>,
    subject: string | null,
    userId: number | null
  ): { limit: LimitName; userId: number | null; max: number } | null {
    const { limits } = this.deps
    if (subject !== null && (counts.get(subject) ?? 0) >= limits.textsPerUserPerDay)
      return { limit: 'texts_per_user_per_day', userId, max: limits.textsPerUserPerDay }
    if (limits.textsPerServerPerDay !== null && (counts.get(SERVER) ?? 0) >= limits.textsPerServerPerDay)
      return { limit: 'texts_per_server_per_day', userId: null, max: limits.textsPerServerPerDay }
    return null
  }

  /** Each subject's texts of the last 24 hours. */
  async #counts(trx: Knex.Transaction | Knex, subjects: string[], now: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    for (const slice of chunks(subjects)) {
      const rows: Array<{ subject: string; total: number | string }> = await trx('text_counts')
        .select('subject')
        .sum({ total: 'count' })
        .whereIn('subject', slice)
        .where('hour', '>', now - DAY)
        .groupBy('subject')
      for (const row of rows) counts.set(row.subject, Number(row.total))
    }
    return counts
  }

  async #add(trx: Knex.Transaction, added: Map<string, number>, now: number): Promise<void> {
    const hour = Math.floor(now / HOUR) * HOUR
    const rows = [...added].map(([subject, count]) => ({ subject, hour, count }))
    for (const slice of chunks(rows)) {
      await trx('text_counts')
        .insert(slice)
        .onConflict(['subject', 'hour'])
        .merge({ count: trx.raw('?? + ??', ['text_counts.count', 'excluded.count']) })
    }
  }

  /**
   * `limit.reached` and a warning, once per limit and subject in 24 hours: a marker in
   * rate_limits taken by a conditional update, so two instances cannot both raise it.
   */
  async #reached(
    trx: Knex.Transaction,
    reached: { limit: LimitName; userId: number | null; max: number },
    refused: boolean,
    now: number
  ): Promise<void> {
    const key = `limits.reached:${reached.limit}:${reached.userId ?? SERVER}`
    await trx('rate_limits').where({ key }).where('reset_at', '<=', now).delete()
    await trx('rate_limits')
      .insert({ key, count: 0, reset_at: now + DAY })
      .onConflict('key')
      .ignore()
    const first = await trx('rate_limits').where({ key, count: 0 }).update({ count: 1 })
    if (first !== 1) return
    await this.deps.events.record(trx, 'limit.reached', { ...reached, refused })
    this.deps.logger.warn(
      { limit: reached.limit, userId: reached.userId, max: reached.max, refused },
      refused
        ? 'a text limit is reached: texts that may wait (command replies, invitations) are not sent for now'
        : 'the server text limit is passed by texts that are never refused (check-ins); texts that may wait are not sent'
    )
  }
}
