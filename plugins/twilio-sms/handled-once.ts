import type { Knex } from 'knex'
import type { InboundResult, PluginDatabase } from 'kronus'

/** Inbound texts already handled, with the reply each got. */
export const INBOUND_MESSAGES = 'inbound_messages'

export interface HandledOnceOptions {
  db: PluginDatabase
  now: () => number
  channel: string
}

/** The most texts one statement claims or marks handled (6 values a row, far below SQLite's limit). */
const ROWS_PER_STATEMENT = 100

/**
 * Handles an inbound text at most once per (channel, message id), and gives a retry the
 * reply the first delivery got. The row is claimed in the transaction that handles the
 * text: a concurrent retry waits on its unique key until that commits, then finds it
 * handled; a handling that rolls back leaves no row, so the retry handles it afresh.
 */
export async function handleOnce(
  options: HandledOnceOptions & { messageId: string },
  handle: (trx: Knex.Transaction) => Promise<InboundResult>
): Promise<InboundResult & { duplicate: boolean }> {
  const [result] = await handleEachOnce(options, [options.messageId], async (_, trx) => [await handle(trx)])
  return result!
}

/**
 * handleOnce for texts that arrived together, in one transaction: all are claimed by one
 * insert, `handle` is called once with the indexes of those not handled before (in order)
 * and returns their results, and the replies are kept by one update. A text seen before
 * gets its first reply, marked duplicate. The message ids must differ.
 */
export async function handleEachOnce(
  options: HandledOnceOptions,
  messageIds: string[],
  handle: (fresh: number[], trx: Knex.Transaction) => Promise<InboundResult[]>
): Promise<Array<InboundResult & { duplicate: boolean }>> {
  const { db, channel } = options
  if (new Set(messageIds).size !== messageIds.length) throw new Error('handleEachOnce: the message ids must differ')
  return db.transaction(async (trx) => {
    const createdAt = options.now()
    const claimed = new Set<string>()
    for (let from = 0; from < messageIds.length; from += ROWS_PER_STATEMENT) {
      const rows: Array<{ message_id: string } | string> = await db
        .table(INBOUND_MESSAGES, trx)
        .insert(
          messageIds.slice(from, from + ROWS_PER_STATEMENT).map((messageId) => ({
            channel,
            message_id: messageId,
            user_id: null,
            reply: null,
            handled_at: null,
            created_at: createdAt
          }))
        )
        .onConflict(['channel', 'message_id'])
        .ignore()
        .returning('message_id')
      for (const row of rows) claimed.add(typeof row === 'object' ? row.message_id : row)
    }
    const results: Array<InboundResult & { duplicate: boolean }> = new Array(messageIds.length)
    // Only texts seen before are read back: new ones cost the insert alone.
    const seen = await handledBefore(
      db,
      trx,
      channel,
      messageIds.filter((id) => !claimed.has(id))
    )
    const fresh: number[] = []
    messageIds.forEach((messageId, at) => {
      const first = seen.get(messageId)
      if (first) results[at] = { ...first, duplicate: true }
      else fresh.push(at)
    })
    if (fresh.length === 0) return results
    const handled = await handle(fresh, trx)
    fresh.forEach((at, i) => {
      results[at] = { ...handled[i]!, duplicate: false }
    })
    await markHandled(
      db,
      trx,
      channel,
      fresh.map((at, i) => ({ messageId: messageIds[at]!, ...handled[i]! })),
      options.now()
    )
    return results
  })
}

/** The texts among `messageIds` already handled, with what they were answered. */
async function handledBefore(
  db: PluginDatabase,
  trx: Knex.Transaction,
  channel: string,
  messageIds: string[]
): Promise<Map<string, InboundResult>> {
  const handled = new Map<string, InboundResult>()
  if (messageIds.length === 0) return handled
  for (let from = 0; from < messageIds.length; from += ROWS_PER_STATEMENT) {
    const rows: Array<{
      message_id: string
      user_id: number | string | null
      reply: string | null
      handled_at: number | string | null
    }> = await db
      .table(INBOUND_MESSAGES, trx)
      .where({ channel })
      .whereIn('message_id', messageIds.slice(from, from + ROWS_PER_STATEMENT))
      .select('message_id', 'user_id', 'reply', 'handled_at')
    for (const row of rows) {
      if (row.handled_at === null) continue
      handled.set(row.message_id, { userId: row.user_id === null ? null : Number(row.user_id), reply: row.reply })
    }
  }
  return handled
}

/** Keeps each text's sender and reply: one update per hundred texts, by CASE on the message id. */
async function markHandled(
  db: PluginDatabase,
  trx: Knex.Transaction,
  channel: string,
  texts: Array<{ messageId: string } & InboundResult>,
  handledAt: number
): Promise<void> {
  for (let from = 0; from < texts.length; from += ROWS_PER_STATEMENT) {
    const part = texts.slice(from, from + ROWS_PER_STATEMENT)
    const whens = part.map(() => 'WHEN ? THEN ?').join(' ')
    await db
      .table(INBOUND_MESSAGES, trx)
      .where({ channel })
      .whereIn(
        'message_id',
        part.map((t) => t.messageId)
      )
      .update({
        user_id: trx.raw(
          `CASE message_id ${part.map(() => 'WHEN ? THEN CAST(? AS INTEGER)').join(' ')} END`,
          part.flatMap((t) => [t.messageId, t.userId])
        ),
        reply: trx.raw(
          `CASE message_id ${whens} END`,
          part.flatMap((t) => [t.messageId, t.reply])
        ),
        handled_at: handledAt
      })
  }
}

/** Deletes rows created before `before`: retries come within hours, older rows only take space. */
export async function pruneHandled(db: PluginDatabase, channel: string, before: number): Promise<number> {
  return db.table(INBOUND_MESSAGES).where({ channel }).where('created_at', '<', before).delete()
}
