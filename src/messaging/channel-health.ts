import type { Knex } from 'knex'

const TABLE = 'channel_health'

/** How a channel's sends stand, as the `channel_health` table records them. */
export interface ChannelHealthRow {
  channel: string
  /** The first failed send since the last one that went through; null while sends go through. */
  failingSince: number | null
  lastError: string | null
  /** The provider's last refusal of the account itself, until a send or a delivery shows it cured. */
  accountError: string | null
  accountErrorAt: number | null
}

/** The rows of channels whose sends fail or whose account is refused (a query to run or to test for rows). */
export function troubledChannels(knex: Knex | Knex.Transaction): Knex.QueryBuilder {
  return knex(TABLE).where((q) => q.whereNotNull('failing_since').orWhereNotNull('account_error'))
}

/**
 * The record of whether texts go out, per channel, shared by every instance: messaging
 * writes each batch's successes and each failure, and the watchdog reads it. A success
 * writes only when there is something to clear, so a healthy server pays one update
 * that matches no row per batch.
 */
export class ChannelHealth {
  constructor(private readonly knex: Knex) {}

  /** Texts went through `channel`: its failures, and an account error seen at send time, are over. */
  async sent(trx: Knex.Transaction, channel: string, now: number): Promise<void> {
    // One statement for both: a delivery's verdict on the account (source 'delivery') stands.
    const fromSend = (column: string) =>
      trx.raw(`CASE WHEN ?? = 'send' THEN NULL ELSE ?? END`, ['account_error_source', column])
    await trx(TABLE)
      .where({ channel })
      .where((q) => q.whereNotNull('failing_since').orWhere('account_error_source', 'send'))
      .update({
        failing_since: null,
        account_error: fromSend('account_error'),
        account_error_source: fromSend('account_error_source'),
        account_error_at: fromSend('account_error_at'),
        updated_at: now
      })
  }

  /** A send through `channel` failed; `accountLevel`: the provider refused the account itself. */
  async failed(channel: string, error: string, accountLevel: boolean, now: number): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await this.#ensureRow(trx, channel, now)
      await trx(TABLE)
        .where({ channel })
        .update({
          failing_since: trx.raw('coalesce(failing_since, ?)', [now]),
          last_failure_at: now,
          last_error: error,
          updated_at: now,
          ...(accountLevel ? { account_error: error, account_error_source: 'send', account_error_at: now } : {})
        })
    })
  }

  /**
   * A delivery receipt: `delivered` cures any account error (texts reach people again);
   * an undelivered text the provider blamed on the account records one.
   */
  async delivery(
    trx: Knex.Transaction,
    channel: string,
    outcome: { delivered: true } | { delivered: false; accountError: string | null },
    now: number
  ): Promise<void> {
    if (outcome.delivered) {
      await trx(TABLE)
        .where({ channel })
        .whereNotNull('account_error')
        .update({ account_error: null, account_error_source: null, account_error_at: null, updated_at: now })
      return
    }
    if (outcome.accountError === null) return
    await this.#ensureRow(trx, channel, now)
    await trx(TABLE).where({ channel }).update({
      account_error: outcome.accountError,
      account_error_source: 'delivery',
      account_error_at: now,
      updated_at: now
    })
  }

  /** Every channel that has a failure or an account error on record. */
  async troubled(knex: Knex | Knex.Transaction = this.knex): Promise<ChannelHealthRow[]> {
    const rows: Array<Record<string, unknown>> = await troubledChannels(knex).orderBy('channel')
    return rows.map((row) => ({
      channel: String(row.channel),
      failingSince: row.failing_since == null ? null : Number(row.failing_since),
      lastError: row.last_error == null ? null : String(row.last_error),
      accountError: row.account_error == null ? null : String(row.account_error),
      accountErrorAt: row.account_error_at == null ? null : Number(row.account_error_at)
    }))
  }

  async #ensureRow(trx: Knex.Transaction, channel: string, now: number): Promise<void> {
    await trx(TABLE).insert({ channel, updated_at: now }).onConflict('channel').ignore()
  }
}
