import type { Knex } from 'knex'
import { chunks } from '../db/chunks.js'

const MESSAGE_SENDS = 'message_sends'

/** A send a previous run of its job left in flight: its outcome at the provider is unknown. */
export interface UnfinishedSend {
  channel: string
  /** Epoch ms (wall time) when that run began the send: no earlier text can be it. */
  startedAt: number
}

/** A text job about to be sent: what it is for and whom it is about, kept for its delivery receipts. */
export interface StartingSend {
  jobId: number
  ref: string | null
  userId: number | null
  /** Its events are hidden from its user (OutgoingMessage.hiddenFromUser): so are its receipts'. */
  hiddenFromUser: boolean
}

export interface FinishedSend {
  jobId: number
  providerId: string | null
}

/**
 * The record of texts between the request to the provider and the record of its answer
 * (the `message_sends` table, one row per text job). What makes texts exactly once for a
 * channel that can reconcile: see Messaging#deliverBatch.
 */
export class SendLedger {
  constructor(private readonly knex: Knex) {}

  /**
   * Records these jobs' sends as in flight through `channel`, with their ref and user (a
   * delivery receipt, which names only the provider's id, is traced back through them),
   * committed before any of them reaches the provider, and returns the sends an earlier
   * run left unfinished.
   */
  async begin(sends: StartingSend[], channel: string, startedAt: number): Promise<Map<number, UnfinishedSend>> {
    if (sends.length === 0) return new Map()
    const jobIds = sends.map((send) => send.jobId)
    // Two statements, each committed on its own: a transaction around them would add nothing.
    // These jobs are claimed by the caller, so nothing else writes their rows in between; a
    // rival whose claim took over a lapsed lock inserts the same rows, and ON CONFLICT keeps
    // one. A crash between the two leaves nothing recorded, as before the read. (A transaction
    // per batch of texts was also a knex object of about 32 KiB that outlived the young
    // generation: 1,000 of them in a fan-out of 100k texts.)
    const rows: Array<{ job_id: number | string; channel: string; started_at: number | string }> = await this.knex(
      MESSAGE_SENDS
    )
      .whereIn('job_id', jobIds)
      .whereNull('finished_at')
      .select('job_id', 'channel', 'started_at')
    const unfinished = new Map(
      rows.map((r) => [Number(r.job_id), { channel: r.channel, startedAt: Number(r.started_at) }])
    )
    const fresh = sends.filter((send) => !unfinished.has(send.jobId))
    if (fresh.length > 0) {
      await this.knex(MESSAGE_SENDS)
        .insert(
          fresh.map((send) => ({
            job_id: send.jobId,
            channel,
            started_at: startedAt,
            ref: send.ref,
            user_id: send.userId,
            hidden_from_user: send.hiddenFromUser
          }))
        )
        .onConflict('job_id')
        .ignore()
    }
    return unfinished
  }

  /** Of these provider ids, the ones no recorded send of `channel` has: texts nobody has claimed. */
  async unclaimed(channel: string, providerIds: string[]): Promise<string[]> {
    if (providerIds.length === 0) return []
    const claimed = new Set<string>()
    for (let i = 0; i < providerIds.length; i += 500) {
      const rows: Array<{ provider_id: string }> = await this.knex(MESSAGE_SENDS)
        .where({ channel })
        .whereIn('provider_id', providerIds.slice(i, i + 500))
        .select('provider_id')
      for (const row of rows) claimed.add(row.provider_id)
    }
    return providerIds.filter((id) => !claimed.has(id))
  }

  /**
   * Ends these sends with the provider's ids, in the transaction that ends their jobs: one
   * UPDATE per few hundred sends, each row getting its own id through a CASE on job_id
   * (one statement per text cost a fan-out of 100k texts 30 s of the database's time).
   */
  async finish(trx: Knex.Transaction, sends: FinishedSend[], finishedAt: number): Promise<void> {
    for (const part of chunks(sends)) {
      const providerId = trx.raw(`CASE ?? ${part.map(() => 'WHEN ? THEN ?').join(' ')} END`, [
        'job_id',
        ...part.flatMap((send) => [send.jobId, send.providerId])
      ])
      await trx(MESSAGE_SENDS)
        .whereIn(
          'job_id',
          part.map((send) => send.jobId)
        )
        .update({ provider_id: providerId, finished_at: finishedAt })
    }
  }

  /** Drops the in-flight records of sends that were never handed to the provider. */
  async forget(jobIds: number[]): Promise<void> {
    if (jobIds.length === 0) return
    await this.knex(MESSAGE_SENDS).whereIn('job_id', jobIds).whereNull('finished_at').delete()
  }
}
