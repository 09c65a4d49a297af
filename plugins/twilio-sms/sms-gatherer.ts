import type { InboundResult, PluginContext } from 'kronus'
import { handleEachOnce } from './handled-once.js'

/** An inbound text as Twilio posts it. */
export interface ReceivedSms {
  from: string
  text: string
  messageId: string
}

export type ReceivedResult = InboundResult & { duplicate: boolean }

/**
 * Inbound texts that arrived together, in one transaction: each at most once per
 * MessageSid (a retry gets the first reply), through every inbound handler, in order.
 * The message ids must differ.
 */
export function receiveSmsBatch(
  kronus: PluginContext,
  channel: string,
  texts: ReceivedSms[]
): Promise<ReceivedResult[]> {
  return handleEachOnce(
    { db: kronus.db, now: () => kronus.clock.now(), channel },
    texts.map((sms) => sms.messageId),
    (fresh, trx) =>
      kronus.messaging.receiveMany(
        fresh.map((at) => ({ ...texts[at]!, channel })),
        trx
      )
  )
}

export interface SmsGathererOptions {
  /** Handles a batch of texts from different phones, with different message ids. */
  receiveBatch(texts: ReceivedSms[]): Promise<ReceivedResult[]>
  /** Told when a batch failed as a whole, before its texts are handled one at a time. */
  onBatchFailed(err: unknown, texts: number): void
  /** The most texts in one batch. */
  maxBatch: number
  /** The most batches handled at once. */
  concurrency: number
}

interface Waiting {
  sms: ReceivedSms
  resolve(result: ReceivedResult): void
  reject(err: unknown): void
}

/**
 * Gathers webhook requests that arrive while earlier ones are being handled into one
 * batch, so a burst of replies costs a few statements a batch instead of a transaction
 * a text. A text that finds nothing running is handled at once, alone: gathering adds no
 * wait. A batch holds each phone once, and a phone with a text in a running batch waits
 * for it to end, so one sender's texts are handled one after the other, in the order
 * they came. A batch that fails as a whole (a rival's lock, one text's handler throwing)
 * is handled again one text at a time, so one text's failure is its request's alone.
 */
export class SmsGatherer {
  readonly #options: SmsGathererOptions
  readonly #waiting: Waiting[] = []
  /** The phones with a text in a running batch. */
  readonly #busy = new Set<string>()
  #running = 0

  constructor(options: SmsGathererOptions) {
    if (!(options.maxBatch >= 1 && options.concurrency >= 1))
      throw new Error('an SMS gatherer needs maxBatch and concurrency of 1 or more')
    this.#options = options
  }

  receive(sms: ReceivedSms): Promise<ReceivedResult> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ sms, resolve, reject })
      this.#start()
    })
  }

  #start(): void {
    while (this.#running < this.#options.concurrency) {
      const batch = this.#take()
      if (batch.length === 0) return
      this.#running++
      for (const { sms } of batch) this.#busy.add(sms.from)
      void this.#run(batch).finally(() => {
        this.#running--
        for (const { sms } of batch) this.#busy.delete(sms.from)
        this.#start()
      })
    }
  }

  /** The oldest waiting texts of different, idle phones and different ids, up to maxBatch. */
  #take(): Waiting[] {
    const phones = new Set<string>()
    const ids = new Set<string>()
    const batch: Waiting[] = []
    for (let at = 0; at < this.#waiting.length && batch.length < this.#options.maxBatch; ) {
      const { sms } = this.#waiting[at]!
      if (this.#busy.has(sms.from) || phones.has(sms.from) || ids.has(sms.messageId)) {
        at++
        continue
      }
      phones.add(sms.from)
      ids.add(sms.messageId)
      batch.push(...this.#waiting.splice(at, 1))
    }
    return batch
  }

  async #run(batch: Waiting[]): Promise<void> {
    try {
      const results = await this.#options.receiveBatch(batch.map((w) => w.sms))
      batch.forEach((waiting, i) => waiting.resolve(results[i]!))
      return
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err)
        return
      }
      this.#options.onBatchFailed(err, batch.length)
    }
    for (const waiting of batch) {
      try {
        const [result] = await this.#options.receiveBatch([waiting.sms])
        waiting.resolve(result!)
      } catch (err) {
        waiting.reject(err)
      }
    }
  }
}
