import type { Knex } from 'knex'
import type { QueryBuilder } from 'objection'
import { EmergencyProbe, Probe, ProbeStatus, User } from '../db/models/index.js'
import type { Page } from '../db/paging.js'
import { PAGE_SIZE, PROBE_STATUS_ID, PROBE_STATUS_NAMES, type ProbeStatusName } from '../domain/constants.js'
import { NotFoundError } from '../domain/errors.js'
import { pagingOf } from '../domain/paging.js'
import type { OnDemandRequest, OnDemandResult } from '../probes/on-demand.js'
import { toRfc3339 } from '../util/time.js'
import type { ServiceContext } from './context.js'

export type ProbeStats = Record<`${ProbeStatusName}_probe_count`, number>

/** Starts a probe on a user's request; OnDemandProbes provides it. */
export interface OnDemandRequester {
  request(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult>
}

export class ProbeQueryService {
  /** The probe_statuses rows by id: a lookup table seeded by migration 0001 and never written, so read once. */
  #statuses: Promise<Map<number, ProbeStatus>> | undefined

  constructor(
    private readonly ctx: ServiceContext,
    private readonly onDemand: OnDemandRequester
  ) {}

  /**
   * A user's probes, newest first, each with its status and the alert it caused, if any.
   * `hideDuress` leaves out whom a duress alarm alerted: a user reading their own
   * probes (someone may be making them) sees a duress reply's check-in as a plain OK.
   */
  async listForUser(
    userId: number,
    page: number,
    trx?: Knex.Transaction,
    hideDuress = false
  ): Promise<Page<ProbeWithContacts>> {
    const db = trx ?? this.ctx.knex
    const result = await this.#page(db, Probe.query(db).where({ user_id: userId }), page, hideDuress)
    // A user's probes go with the user (ON DELETE CASCADE): only an empty page needs to ask whether the user exists.
    if (result.results.length === 0 && !(await User.query(db).findById(userId)))
      throw new NotFoundError(`user ${userId} not found`)
    return result
  }

  /** Every user's probes, newest first, optionally only those with one status (admin). */
  async list(
    status: ProbeStatusName | undefined,
    page: number,
    trx?: Knex.Transaction
  ): Promise<Page<ProbeWithContacts>> {
    const db = trx ?? this.ctx.knex
    const query = Probe.query(db)
    if (status) query.where({ probe_status_id: PROBE_STATUS_ID[status] })
    return this.#page(db, query, page)
  }

  /** How many probes have each status, named as the first Kronus names the counts. */
  async stats(trx?: Knex.Transaction): Promise<ProbeStats> {
    const rows = (await (trx ?? this.ctx.knex)('probes')
      .select('probe_status_id')
      .count({ n: '*' })
      .groupBy('probe_status_id')) as Array<{ probe_status_id: number; n: number | string }>
    const stats = Object.fromEntries(PROBE_STATUS_NAMES.map((name) => [`${name}_probe_count`, 0])) as ProbeStats
    for (const row of rows) {
      const name = PROBE_STATUS_NAMES.find((n) => PROBE_STATUS_ID[n] === Number(row.probe_status_id))
      if (name) stats[`${name}_probe_count`] = Number(row.n)
    }
    return stats
  }

  /** Asks for a probe now or in a few minutes; see OnDemandProbes for the rules. */
  async requestOnDemand(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult> {
    return this.onDemand.request(userId, input, trx)
  }

  /**
   * One page of probes, newest first. The page's read also says which of its probes raised
   * an alarm and which have emergency_probes rows (alerts from before alarms), so a page of
   * check-ins that alerted nobody, nearly every page, takes that one query; the total is
   * counted only when the page is full or past the end, since otherwise it is known.
   */
  async #page(
    db: Knex | Knex.Transaction,
    query: QueryBuilder<Probe, Probe[]>,
    page: number,
    hideDuress = false
  ): Promise<Page<ProbeWithContacts>> {
    const alarmed = db('alarms').select(db.raw('1')).whereRaw('?? = ??', ['alarms.probe_id', 'probes.id'])
    // A duress reply's probe then reads as no alarm at all (it has no emergency_probes rows either).
    if (hideDuress) alarmed.whereNot('alarms.trigger', 'duress')
    const alertRows = db('emergency_probes')
      .select(db.raw('1'))
      .whereRaw('?? = ??', ['emergency_probes.probe_id', 'probes.id'])
    const offset = (page - 1) * PAGE_SIZE
    const [rows, statuses] = await Promise.all([
      query
        .clone()
        .select(
          'probes.*',
          db.raw('exists ? as has_alarm', [alarmed]),
          db.raw('exists ? as has_alert_rows', [alertRows])
        )
        .orderBy('probes.id', 'desc')
        .offset(offset)
        .limit(PAGE_SIZE) as unknown as Promise<Array<Probe & { has_alarm?: unknown; has_alert_rows?: unknown }>>,
      this.#probeStatuses()
    ])
    const pageIsPartial = rows.length < PAGE_SIZE && (rows.length > 0 || page === 1)
    const total = pageIsPartial ? offset + rows.length : await query.clone().resultSize()
    const withAlarm: number[] = []
    const withAlertRows: number[] = []
    for (const probe of rows) {
      if (isTrue(probe.has_alarm)) withAlarm.push(probe.id)
      if (isTrue(probe.has_alert_rows)) withAlertRows.push(probe.id)
      delete probe.has_alarm
      delete probe.has_alert_rows
    }
    const [alerted, emergencyProbes] = await Promise.all([
      this.#alertedContacts(
        db,
        withAlarm,
        withAlertRows.filter((id) => !withAlarm.includes(id)),
        hideDuress
      ),
      this.#firstEmergencyProbes(db, withAlertRows)
    ])
    return {
      paging: pagingOf(total, page),
      results: rows.map((probe) => {
        probe.emergency_probe = emergencyProbes.get(probe.id) ?? null
        probe.status = statuses.get(probe.probe_status_id)
        return Object.assign(probe, { alerted_contacts: alerted.get(probe.id) ?? [] })
      })
    }
  }

  /** Each probe's first emergency_probes row (the probe's `emergency_probe`), by probe id. */
  async #firstEmergencyProbes(db: Knex | Knex.Transaction, probeIds: number[]): Promise<Map<number, EmergencyProbe>> {
    const first = new Map<number, EmergencyProbe>()
    if (probeIds.length === 0) return first
    for (const row of await EmergencyProbe.query(db).whereIn('probe_id', probeIds).orderBy('id')) {
      if (!first.has(row.probe_id)) first.set(row.probe_id, row)
    }
    return first
  }

  #probeStatuses(): Promise<Map<number, ProbeStatus>> {
    this.#statuses ??= ProbeStatus.query(this.ctx.knex).then(
      (rows) => new Map(rows.map((row) => [row.id, row])),
      (err) => {
        this.#statuses = undefined
        throw err
      }
    )
    return this.#statuses
  }

  /**
   * Everyone a probe's alarm was sent to, by probe id. A probe that raised an alarm lists
   * the alarm's contacts that were alerted (not those still waiting for their turn), with
   * the name and number copied onto the alarm and their state; a probe from before alarms
   * lists its emergency_probes rows, with the contact as it is now (null once deleted).
   * `hideDuress` leaves out the contacts of duress alarms.
   */
  async #alertedContacts(
    db: Knex | Knex.Transaction,
    alarmedProbeIds: number[],
    olderProbeIds: number[],
    hideDuress: boolean
  ): Promise<Map<number, AlertedContact[]>> {
    const byProbe = new Map<number, AlertedContact[]>()
    if (alarmedProbeIds.length > 0) {
      const query = db('alarm_contacts as ac').join('alarms as a', 'a.id', 'ac.alarm_id')
      if (hideDuress) query.whereNot('a.trigger', 'duress')
      const rows = (await query
        .whereIn('a.probe_id', alarmedProbeIds)
        .whereNot('ac.state', 'waiting')
        .orderBy([{ column: 'a.id' }, { column: 'ac.position' }, { column: 'ac.id' }])
        .select(
          'a.probe_id',
          'a.id as alarm_id',
          'ac.contact_id',
          'ac.name',
          'ac.phone_number',
          'ac.state',
          'ac.alerted_at'
        )) as Array<Record<string, any>>
      for (const row of rows) {
        push(byProbe, Number(row.probe_id), {
          contact_id: row.contact_id === null ? null : Number(row.contact_id),
          name: row.name,
          phone_number: row.phone_number,
          state: row.state,
          alarm_id: Number(row.alarm_id),
          alerted_at: row.alerted_at === null ? null : toRfc3339(Number(row.alerted_at))
        })
      }
    }
    if (olderProbeIds.length > 0) {
      const rows = (await db('emergency_probes as ep')
        .leftJoin('contacts as c', 'c.id', 'ep.contact_id')
        .whereIn('ep.probe_id', olderProbeIds)
        .orderBy('ep.id')
        .select(
          'ep.probe_id',
          'ep.contact_id',
          'ep.created_at',
          'c.first_name',
          'c.last_name',
          'c.phone_number'
        )) as Array<Record<string, any>>
      for (const row of rows) {
        push(byProbe, Number(row.probe_id), {
          contact_id: row.contact_id === null ? null : Number(row.contact_id),
          name: row.first_name === null ? null : `${row.first_name} ${row.last_name}`,
          phone_number: row.phone_number ?? null,
          state: null,
          alarm_id: null,
          alerted_at: toRfc3339(Number(row.created_at))
        })
      }
    }
    return byProbe
  }
}

/** One person a probe's alert went to, as GET /v1/probes shows it. */
export interface AlertedContact {
  contact_id: number | null
  name: string | null
  phone_number: string | null
  /** The alarm contact's state (queued, sent, delivered, ...); null for alerts from before alarms. */
  state: string | null
  alarm_id: number | null
  alerted_at: string | null
}

export type ProbeWithContacts = Probe & { alerted_contacts: AlertedContact[] }

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** A boolean as the database returns it: true on PostgreSQL, 1 on SQLite. */
function isTrue(value: unknown): boolean {
  return value === true || Number(value) === 1
}
