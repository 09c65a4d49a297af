import { createHash } from 'node:crypto'
import Boom from '@hapi/boom'
import type { Knex } from 'knex'
import { type Clock, chunks, type Page, type PluginDatabase, pageOfRows, type RecordedEvent } from 'kronus'
import { refusedDestination } from './destination.js'
import type { ConfiguredEndpoint, ResolvedOptions } from './options.js'
import { type EndpointRow, type EndpointView, endpointView } from './rows.js'
import { generateSecret } from './signing.js'

export interface NewWebhook {
  url: string
  events: string[]
  description: string
  active: boolean
}

export type WebhookPatch = Partial<NewWebhook>

/** An endpoint as created or rotated: the only moment its secret is shown. */
export interface EndpointWithSecret extends EndpointView {
  secret: string
}

export interface WebhookEndpointsDeps {
  db: PluginDatabase
  clock: Clock
  options: ResolvedOptions
}

export const ENDPOINTS_TABLE = 'webhook_endpoints'
const TABLE = ENDPOINTS_TABLE

function configKey(url: string): string {
  return createHash('sha256').update(url).digest('hex')
}

function insertedId(inserted: Array<{ id: number | string } | number | string>): number {
  const first = inserted[0]!
  return Number(typeof first === 'object' ? first.id : first)
}

/** Webhook endpoints: users' own (managed through REST) and those of kronus.config.ts. */
export class WebhookEndpoints {
  readonly #db: PluginDatabase
  readonly #clock: Clock
  readonly #options: ResolvedOptions
  /** Secrets of configured endpoints, by endpoint id: they live in the configuration only. */
  readonly #configuredSecrets = new Map<number, string>()

  constructor(deps: WebhookEndpointsDeps) {
    this.#db = deps.db
    this.#clock = deps.clock
    this.#options = deps.options
  }

  // ── a user's own endpoints ────────────────────────────────────────────────────────

  listForUser(userId: number, page: number): Promise<Page<EndpointView>> {
    return pageOfRows(this.#db.table<EndpointRow>(TABLE).where({ user_id: userId }), page, endpointView, [
      { column: 'id', order: 'asc' }
    ])
  }

  async findForUser(userId: number, id: number, trx?: Knex.Transaction): Promise<EndpointRow> {
    const row: EndpointRow | undefined = await this.#db
      .table<EndpointRow>(TABLE, trx)
      .where({ id, user_id: userId })
      .first()
    if (!row) throw Boom.notFound('webhook not found')
    return row
  }

  async create(userId: number, input: NewWebhook): Promise<EndpointWithSecret> {
    this.#assertDestination(input.url)
    const secret = generateSecret()
    const now = this.#clock.now()
    const id = await this.#db.transaction(async (trx) => {
      const [{ n }] = (await this.#db.table(TABLE, trx).where({ user_id: userId }).count({ n: '*' })) as Array<{
        n: number | string
      }>
      if (Number(n) >= this.#options.maxEndpointsPerUser) {
        throw Boom.conflict(`you already have ${this.#options.maxEndpointsPerUser} webhooks, the most allowed`)
      }
      const inserted = await this.#db
        .table(TABLE, trx)
        .insert({
          user_id: userId,
          url: input.url,
          events: JSON.stringify(input.events),
          description: input.description,
          active: input.active,
          secret,
          created_at: now,
          updated_at: now
        })
        .returning('id')
      return insertedId(inserted)
    })
    return { ...endpointView(await this.findForUser(userId, id)), secret }
  }

  /** `active: true` also lifts a disabling by Kronus: the user says the endpoint works again. */
  async update(userId: number, id: number, patch: WebhookPatch): Promise<EndpointView> {
    if (patch.url !== undefined) this.#assertDestination(patch.url)
    await this.findForUser(userId, id)
    const change: Record<string, unknown> = { updated_at: this.#clock.now() }
    if (patch.url !== undefined) change.url = patch.url
    if (patch.events !== undefined) change.events = JSON.stringify(patch.events)
    if (patch.description !== undefined) change.description = patch.description
    if (patch.active !== undefined) {
      change.active = patch.active
      if (patch.active) Object.assign(change, { disabled_reason: null, disabled_at: null, failing_since: null })
    }
    await this.#db.table(TABLE).where({ id, user_id: userId }).update(change)
    return endpointView(await this.findForUser(userId, id))
  }

  async remove(userId: number, id: number): Promise<void> {
    const deleted = await this.#db.table(TABLE).where({ id, user_id: userId }).delete()
    if (deleted === 0) throw Boom.notFound('webhook not found')
  }

  /** A new secret; the old one keeps signing beside it for the configured overlap. */
  async rotateSecret(userId: number, id: number): Promise<EndpointWithSecret> {
    const secret = generateSecret()
    const now = this.#clock.now()
    await this.#db.transaction(async (trx) => {
      const row = await this.findForUser(userId, id, trx)
      const overlapMs = this.#options.secretOverlapHours * 3600_000
      await this.#db
        .table(TABLE, trx)
        .where({ id })
        .update({
          secret,
          previous_secret: overlapMs > 0 ? row.secret : null,
          previous_secret_expires_at: overlapMs > 0 ? now + overlapMs : null,
          updated_at: now
        })
    })
    return { ...endpointView(await this.findForUser(userId, id)), secret }
  }

  #assertDestination(url: string): void {
    const refused = refusedDestination(url, this.#options.allowPrivateNetworks)
    if (refused) throw Boom.badRequest(`"url" ${refused}`)
  }

  // ── endpoints of kronus.config.ts ─────────────────────────────────────────────────

  /**
   * Makes the table match the configuration: a configured endpoint keeps its row (and
   * so its delivery log and a disabling) across restarts as long as its URL stays the
   * same; rows of endpoints no longer configured go, with their log.
   */
  async syncConfigured(endpoints: readonly ConfiguredEndpoint[]): Promise<void> {
    const now = this.#clock.now()
    this.#configuredSecrets.clear()
    await this.#db.transaction(async (trx) => {
      const keys = endpoints.map((e) => configKey(e.url))
      await this.#db
        .table(TABLE, trx)
        .whereNotNull('config_key')
        .whereNotIn('config_key', keys.length > 0 ? keys : [''])
        .delete()
      for (const [i, endpoint] of endpoints.entries()) {
        const fields = {
          url: endpoint.url,
          events: JSON.stringify(endpoint.events),
          description: endpoint.description ?? '',
          updated_at: now
        }
        // Several Kronus processes may start at once: the first insert wins, the others update.
        await this.#db
          .table(TABLE, trx)
          .insert({ ...fields, user_id: null, config_key: keys[i], active: true, created_at: now })
          .onConflict('config_key')
          .ignore()
        await this.#db.table(TABLE, trx).where({ config_key: keys[i] }).update(fields)
        const row: Pick<EndpointRow, 'id'> = await this.#db
          .table(TABLE, trx)
          .select('id')
          .where({ config_key: keys[i] })
          .first()
        this.#configuredSecrets.set(Number(row.id), endpoint.secret)
      }
    })
  }

  listConfigured(page: number): Promise<Page<EndpointView>> {
    return pageOfRows(this.#db.table<EndpointRow>(TABLE).whereNotNull('config_key'), page, endpointView, [
      { column: 'id', order: 'asc' }
    ])
  }

  async findConfigured(id: number): Promise<EndpointRow> {
    const row: EndpointRow | undefined = await this.#db
      .table<EndpointRow>(TABLE)
      .where({ id })
      .whereNotNull('config_key')
      .first()
    if (!row) throw Boom.notFound('configured webhook endpoint not found')
    return row
  }

  /** Turns a configured endpoint that Kronus disabled back on. */
  async enableConfigured(id: number): Promise<EndpointView> {
    await this.findConfigured(id)
    await this.#db.table(TABLE).where({ id }).update({
      active: true,
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
      updated_at: this.#clock.now()
    })
    return endpointView(await this.findConfigured(id))
  }

  // ── for deliveries ────────────────────────────────────────────────────────────────

  async find(id: number): Promise<EndpointRow | undefined> {
    return this.#db.table<EndpointRow>(TABLE).where({ id }).first()
  }

  /**
   * Which of these events any active endpoint is subscribed to, by one read: the events'
   * users' endpoints and the configured ones. The fan-out subscriber uses it so that a
   * user without a webhook costs no delivery job (a fan-out of 100k probes would
   * otherwise queue 100k of them, ahead of any emergency alert).
   */
  async wanted(events: RecordedEvent[], trx: Knex.Transaction): Promise<boolean[]> {
    const userIds = [...new Set(events.map((e) => e.userId).filter((id): id is number => id !== null))]
    const rows: Array<Pick<EndpointRow, 'user_id' | 'config_key' | 'events'>> = []
    // Configured endpoints are read with the first slice of users, so one batch is one query.
    for (const [i, ids] of (userIds.length > 0 ? chunks(userIds) : [[]]).entries()) {
      const found = await this.#db
        .table<EndpointRow>(TABLE, trx)
        .select('user_id', 'config_key', 'events')
        .where({ active: true })
        .where((q) => {
          if (i === 0) q.whereNotNull('config_key')
          if (ids.length > 0) q.orWhereIn('user_id', ids)
        })
      rows.push(...found)
    }
    const endpoints = rows.map((row) => ({
      everyone: row.config_key !== null,
      userId: row.user_id === null ? null : Number(row.user_id),
      types: new Set(JSON.parse(row.events) as string[])
    }))
    return events.map((event) => {
      const owner = ownerOf(event)
      return endpoints.some((e) => e.types.has(event.type) && (e.everyone || (owner !== null && e.userId === owner)))
    })
  }

  /**
   * Active endpoints that take this event: configured ones for everyone, and the user's
   * own, unless the event is hidden from its user (a duress alarm's).
   */
  async matching(event: Pick<RecordedEvent, 'type' | 'userId' | 'hiddenFromUser'>): Promise<EndpointRow[]> {
    const { type } = event
    const userId = ownerOf(event)
    const rows: EndpointRow[] = await this.#db
      .table<EndpointRow>(TABLE)
      .where({ active: true })
      .where((q) => {
        q.whereNotNull('config_key')
        if (userId !== null) q.orWhere({ user_id: userId })
      })
      .orderBy('id')
    return rows.filter((row) => (JSON.parse(row.events) as string[]).includes(type))
  }

  /** The secrets a delivery is signed with now: the current one, and a rotated-out one still in its overlap. */
  signingSecrets(row: EndpointRow): string[] {
    if (row.config_key !== null) {
      const secret = this.#configuredSecrets.get(Number(row.id))
      return secret ? [secret] : []
    }
    const secrets = row.secret ? [row.secret] : []
    if (
      row.previous_secret &&
      row.previous_secret_expires_at !== null &&
      Number(row.previous_secret_expires_at) > this.#clock.now()
    ) {
      secrets.push(row.previous_secret)
    }
    return secrets
  }

  async markSucceeded(trx: Knex.Transaction, id: number): Promise<void> {
    await this.#db.table(TABLE, trx).where({ id }).whereNotNull('failing_since').update({ failing_since: null })
  }

  /** Notes a failure; returns since when the endpoint has been failing without a success in between. */
  async markFailed(trx: Knex.Transaction, id: number, now: number): Promise<number> {
    await this.#db.table(TABLE, trx).where({ id }).whereNull('failing_since').update({ failing_since: now })
    const row: Pick<EndpointRow, 'failing_since'> | undefined = await this.#db
      .table(TABLE, trx)
      .select('failing_since')
      .where({ id })
      .first()
    return row?.failing_since === null || row?.failing_since === undefined ? now : Number(row.failing_since)
  }

  /** Turns an endpoint off; false when it already was (so only one disabling is reported). */
  async disable(trx: Knex.Transaction, id: number, reason: string, now: number): Promise<boolean> {
    const updated = await this.#db
      .table(TABLE, trx)
      .where({ id, active: true })
      .update({ active: false, disabled_reason: reason, disabled_at: now, updated_at: now })
    return updated === 1
  }
}

/**
 * The user whose own endpoints may get the event: its user, unless it is hidden from them
 * (a duress alarm's: the person may be made to read their own webhook's receiver).
 */
function ownerOf(event: Pick<RecordedEvent, 'userId' | 'hiddenFromUser'>): number | null {
  return event.hiddenFromUser ? null : event.userId
}
