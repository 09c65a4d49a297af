import type { Knex } from 'knex'
import type { InboundResult, PluginDatabase } from 'kronus'

/** Inbound texts already handled, with the reply each got. */
export const INBOUND_MESSAGES = 'inbound_messages'

export interface HandledOnceOptions {
  db: PluginDatabase
  now: () => number
  channel: string
  messageId: string
}

/**
 * Handles an inbound text at most once per (channel, message id), and gives a retry the
 * reply the first delivery got. The row is claimed in the transaction that handles the
 * text: a concurrent retry waits on its unique key until that commits, then finds it
 * handled; a handling that rolls back leaves no row, so the retry handles it afresh.
 */
export async function handleOnce(
  options: HandledOnceOptions,
  handle: (trx: Knex.Transaction) => Promise<InboundResult>
): Promise<InboundResult & { duplicate: boolean }> {
  const { db, channel, messageId } = options
  return db.transaction(async (trx) => {
    const claimed: unknown[] = await db
      .table(INBOUND_MESSAGES, trx)
      .insert({
        channel,
        message_id: messageId,
        user_id: null,
        reply: null,
        handled_at: null,
        created_at: options.now()
      })
      .onConflict(['channel', 'message_id'])
      .ignore()
      .returning('id')
    // Only a text seen before is read back: a new one costs the insert alone.
    if (claimed.length === 0) {
      const row: { user_id: number | null; reply: string | null; handled_at: number | string | null } = await db
        .table(INBOUND_MESSAGES, trx)
        .where({ channel, message_id: messageId })
        .first('user_id', 'reply', 'handled_at')
      if (row.handled_at !== null) {
        return { userId: row.user_id === null ? null : Number(row.user_id), reply: row.reply, duplicate: true }
      }
    }
    const result = await handle(trx)
    await db
      .table(INBOUND_MESSAGES, trx)
      .where({ channel, message_id: messageId })
      .update({ user_id: result.userId, reply: result.reply, handled_at: options.now() })
    return { ...result, duplicate: false }
  })
}

/** Deletes rows created before `before`: retries come within hours, older rows only take space. */
export async function pruneHandled(db: PluginDatabase, channel: string, before: number): Promise<number> {
  return db.table(INBOUND_MESSAGES).where({ channel }).where('created_at', '<', before).delete()
}
