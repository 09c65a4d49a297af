import type { Knex } from 'knex'
import { ProbeSettings } from '../db/models/index.js'
import { pageOfRows } from '../db/paging.js'
import { NotFoundError } from '../domain/errors.js'
import type { Page } from '../domain/paging.js'
import type { Aliveness } from '../events/types.js'
import { probeFollowUpKey } from '../queue/keys.js'
import { toRfc3339 } from '../util/time.js'
import type { ServiceContext } from './context.js'
import type { ProbeSettingsService } from './probe-settings.js'

/*
 * Where a person stands, at a glance: one state word and the facts behind it. The state
 * is decided in one SQL expression (USER_STATE below), used for one user and for a page
 * of every user alike, so the list filtered by state and each status agree.
 */

/** In order of precedence: the first that holds is the state. */
export const USER_STATES = ['alarm', 'waiting', 'paused', 'off', 'ok', 'unknown', 'not_ok'] as const
export type UserState = (typeof USER_STATES)[number]

/** Probe outcomes that say something about the person (a cancelled probe does not). */
const OUTCOMES = ['good', 'bad', 'unavailable'] as const

export interface UserStatus {
  state: UserState
  aliveness: Aliveness
  last_checkin: { id: number; status: string; at: string } | null
  waiting_checkin: {
    id: number
    sent_at: string
    follow_ups_sent: number
    next_follow_up_at: string | null
  } | null
  open_alarm: { id: number; code: string; state: string; trigger: string; opened_at: string } | null
  next_checkin_at: string | null
  paused_until: string | null
  checks_on: boolean
}

export interface UserStatusWithUser extends UserStatus {
  user: { id: number; first_name: string; last_name: string; phone_number: string }
}

type Row = Record<string, any>

const time = (value: unknown): string | null =>
  value === null || value === undefined ? null : toRfc3339(Number(value))

/** The SQL of a user's last outcome (on `users`), as src/probes/aliveness.ts reads it for one user. */
const LAST_OUTCOME = `(SELECT c.to_status FROM probe_status_changes c WHERE c.user_id = users.id AND c.to_status IN (${OUTCOMES.map(() => '?').join(', ')}) ORDER BY c.id DESC LIMIT 1)`

/**
 * The state of each row of `users` joined to its `probe_settings`. A duress alarm counts
 * only when `withDuress`: the user themselves must never see one (someone may be making
 * them look), exactly as their alarm list hides it.
 */
function userState(knex: Knex, now: number, withDuress: boolean): Knex.Raw {
  return knex.raw(
    `CASE
      WHEN EXISTS (SELECT 1 FROM alarms a WHERE a.user_id = users.id AND a.status <> 'resolved'${withDuress ? '' : " AND a.trigger <> 'duress'"}) THEN 'alarm'
      WHEN EXISTS (SELECT 1 FROM probes p WHERE p.pending_user_id = users.id) THEN 'waiting'
      WHEN probe_settings.paused_until > ? THEN 'paused'
      WHEN NOT probe_settings.active OR users.sms_opted_out_at IS NOT NULL THEN 'off'
      WHEN ${LAST_OUTCOME} = 'good' THEN 'ok'
      WHEN ${LAST_OUTCOME} IS NULL THEN 'unknown'
      ELSE 'not_ok'
    END AS state`,
    [now, ...OUTCOMES, ...OUTCOMES]
  )
}

export class UserStatusService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly probeSettings: ProbeSettingsService
  ) {}

  /** One user's status; `withDuress` for an administrator only. 404 for no such user. */
  async forUser(userId: number, withDuress: boolean, trx?: Knex.Transaction): Promise<UserStatus> {
    const db = trx ?? this.ctx.knex
    const rows = await this.#states(db, withDuress).where('users.id', userId)
    if (rows.length === 0) throw new NotFoundError(`user ${userId} not found`)
    const [status] = await this.#details(db, rows, withDuress)
    const { user: _user, ...rest } = status!
    return rest
  }

  /**
   * Every user's status (administrators: duress alarms count), by user id, paged like the
   * user list, optionally of one state. At most seven queries a page, whatever its size.
   */
  async list(state: UserState | undefined, page: number, trx?: Knex.Transaction): Promise<Page<UserStatusWithUser>> {
    const db = trx ?? this.ctx.knex
    const query = db.from(this.#states(db, true).as('s')).select('*')
    if (state) query.where('state', state)
    const result = await pageOfRows(query, page, (row: Row) => row, [{ column: 'id', order: 'asc' }])
    return { paging: result.paging, results: await this.#details(db, result.results, true) }
  }

  #states(db: Knex | Knex.Transaction, withDuress: boolean): Knex.QueryBuilder {
    const knex = this.ctx.knex
    return db('users')
      .join('probe_settings', 'probe_settings.user_id', 'users.id')
      .select(
        'users.id',
        'users.first_name',
        'users.last_name',
        'users.phone_number',
        userState(knex, this.ctx.clock.now(), withDuress)
      )
  }

  /** The facts behind each state, read for all the rows at once. */
  async #details(db: Knex | Knex.Transaction, rows: Row[], withDuress: boolean): Promise<UserStatusWithUser[]> {
    const ids = rows.map((row) => Number(row.id))
    if (ids.length === 0) return []
    const now = this.ctx.clock.now()

    const settings = new Map<number, ProbeSettings>()
    for (const s of await ProbeSettings.query(db).whereIn('user_id', ids)) settings.set(Number(s.user_id), s)

    const outcomes = new Map<number, Row>()
    const last = db('probe_status_changes')
      .max({ id: 'id' })
      .whereIn('user_id', ids)
      .whereIn('to_status', OUTCOMES)
      .groupBy('user_id')
    for (const row of await db('probe_status_changes').whereIn('id', last)) outcomes.set(Number(row.user_id), row)

    const waiting = new Map<number, Row>()
    for (const row of await db('probes').whereIn('pending_user_id', ids)) waiting.set(Number(row.user_id), row)
    const timers = new Map<string, number>()
    const keys = [...waiting.values()].map((p) => probeFollowUpKey(Number(p.id), Number(p.retry_count)))
    if (keys.length > 0) {
      const jobs = await db('jobs').select('live_key', 'run_at').whereIn('live_key', keys)
      for (const job of jobs) timers.set(job.live_key, Number(job.run_at))
    }

    const alarms = new Map<number, Row>()
    const open = db('alarms').whereIn('user_id', ids).whereNot('status', 'resolved')
    if (!withDuress) open.whereNot('trigger', 'duress')
    // Newest first: a user with two unresolved alarms is shown the latest.
    for (const row of await open.orderBy('id', 'desc')) {
      const userId = Number(row.user_id)
      if (!alarms.has(userId)) alarms.set(userId, row)
    }

    return rows.map((row) => {
      const userId = Number(row.id)
      const s = settings.get(userId)!
      const outcome = outcomes.get(userId)
      const probe = waiting.get(userId)
      const alarm = alarms.get(userId)
      const paused = s.paused_until !== null && s.paused_until > now
      let nextFollowUp: number | null = null
      if (probe && Number(probe.retry_count) < Number(probe.max_retries))
        nextFollowUp = timers.get(probeFollowUpKey(Number(probe.id), Number(probe.retry_count))) ?? null
      return {
        user: {
          id: userId,
          first_name: row.first_name,
          last_name: row.last_name,
          phone_number: row.phone_number
        },
        state: row.state as UserState,
        aliveness: (outcome?.to_status as Aliveness | undefined) ?? 'unknown',
        last_checkin: outcome
          ? { id: Number(outcome.probe_id), status: outcome.to_status, at: time(outcome.created_at)! }
          : null,
        waiting_checkin: probe
          ? {
              id: Number(probe.id),
              sent_at: time(probe.created_at)!,
              follow_ups_sent: Number(probe.retry_count),
              next_follow_up_at: time(nextFollowUp)
            }
          : null,
        open_alarm: alarm
          ? {
              id: Number(alarm.id),
              code: alarm.code,
              state: alarm.status,
              trigger: alarm.trigger,
              opened_at: time(alarm.created_at)!
            }
          : null,
        next_checkin_at: time(this.probeSettings.nextCheckIn(s)),
        paused_until: paused ? time(s.paused_until) : null,
        checks_on: Boolean(s.active)
      }
    })
  }
}
