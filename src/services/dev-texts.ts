import type { KronusEvents } from '../events/types.js'
import { toRfc3339 } from '../util/time.js'
import type { ServiceContext } from './context.js'

/** What one read returns at most; a poller asks again with the last id. */
export const DEV_TEXTS_LIMIT = 100
/** The channel dev mode sends through (src/messaging/console-channel.ts). */
const DEV_CHANNEL = 'console'

export interface DevText {
  /** The id of its event (message.sent or call.placed): a cursor for `after`. */
  id: number
  to: string
  body: string
  kind: 'sms' | 'call'
  at: string
}

/**
 * The texts and calls Kronus "sent" in dev mode, read back from the event log (the console
 * channel only prints them): message.sent holds each text; a call's words are in its
 * message.call job, found by number and ref, as long as the queue keeps finished jobs.
 */
export class DevTextsService {
  constructor(private readonly ctx: ServiceContext) {}

  async after(after: number): Promise<DevText[]> {
    const knex = this.ctx.knex
    const rows: Array<{ id: number | string; type: string; payload: string; created_at: number | string }> = await knex(
      'events'
    )
      .select('id', 'type', 'payload', 'created_at')
      .whereIn('type', ['message.sent', 'call.placed'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(DEV_TEXTS_LIMIT)
    const texts: DevText[] = []
    const calls: Array<{ text: DevText; ref: string | null; at: number }> = []
    for (const row of rows) {
      const id = Number(row.id)
      const at = Number(row.created_at)
      if (row.type === 'message.sent') {
        const sent = JSON.parse(row.payload) as KronusEvents['message.sent']
        if (sent.channel !== DEV_CHANNEL) continue
        texts.push({ id, to: sent.to, body: sent.text, kind: 'sms', at: toRfc3339(at)! })
      } else {
        const placed = JSON.parse(row.payload) as KronusEvents['call.placed']
        if (placed.channel !== DEV_CHANNEL) continue
        const text: DevText = { id, to: placed.to, body: '(a voice call)', kind: 'call', at: toRfc3339(at)! }
        texts.push(text)
        calls.push({ text, ref: placed.ref, at })
      }
    }
    if (calls.length > 0) await this.#callWords(calls)
    return texts
  }

  /** Each call's words, from the message.call job that placed it (finished at or after its event). */
  async #callWords(calls: Array<{ text: DevText; ref: string | null; at: number }>): Promise<void> {
    const jobs: Array<{ id: number | string; payload: string; finished_at: number | string }> = await this.ctx
      .knex('jobs')
      .select('id', 'payload', 'finished_at')
      .where({ name: 'message.call' })
      .where('finished_at', '>=', Math.min(...calls.map((c) => c.at)))
      .orderBy([{ column: 'finished_at' }, { column: 'id' }])
    const used = new Set<number>()
    for (const call of calls) {
      const job = jobs.find((j) => {
        if (used.has(Number(j.id)) || Number(j.finished_at) < call.at) return false
        const payload = JSON.parse(j.payload) as { to: string; ref: string | null }
        return payload.to === call.text.to && payload.ref === call.ref
      })
      if (!job) continue
      used.add(Number(job.id))
      const { say, prompt } = JSON.parse(job.payload) as { say: string; prompt: string }
      call.text.body = `${say}\n${prompt}`
    }
  }
}
