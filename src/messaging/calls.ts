import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { EventLog } from '../events/log.js'
import type { JobQueue } from '../queue/job-queue.js'
import { PermanentJobError } from '../queue/types.js'
import { MessageDeliveryError, type MessagingChannel } from './channel.js'

/** A voice call to place: see OutgoingCallRequest. `userId` as on a text. */
export interface OutgoingCall {
  to: string
  say: string
  prompt: string
  ref: string
  userId?: number | null
  /** While a call with this key waits to be placed, placing it again is a no-op. */
  key?: string
}

export interface CallJobPayload {
  to: string
  say: string
  prompt: string
  ref: string
  userId: number | null
}

declare module '../queue/types.js' {
  interface KronusJobs {
    /** One voice call, placed through the default channel. */
    'message.call': CallJobPayload
  }
}

export const CALL_JOB = 'message.call'
/** Calls are only ever for alarms: they run ahead of every other job. */
export const CALL_PRIORITY = 10

/** Keys pressed during a call, as the channel's webhook reports them. */
export interface CallAnswer {
  channel: string
  to: string
  callId: string | null
  ref: string | null
  digits: string
}

/**
 * Acts on keys pressed during a call, in the transaction that records call.answered;
 * returns what to say back, or null to let the next handler try.
 */
export type CallAnswerHandler = (answer: CallAnswer, trx: Knex.Transaction) => Promise<string | null> | string | null

/**
 * Voice calls: a durable `message.call` job per call, placed through the default
 * channel's call(). A channel that cannot call fails the call permanently, with a
 * call.failed event, so whoever asked for it can fall back.
 */
export class Calls {
  readonly #handlers: CallAnswerHandler[] = []

  constructor(
    private readonly deps: {
      knex: Knex
      events: EventLog
      queue: Pick<JobQueue, 'defineBatch' | 'enqueue'>
      logger: Logger
      channel: () => MessagingChannel | undefined
    }
  ) {
    deps.queue.defineBatch(CALL_JOB, (jobs) => Promise.all(jobs.map((job) => this.#place(job.payload))), {
      batchSize: 10
    })
  }

  async call(call: OutgoingCall, trx?: Knex.Transaction): Promise<void> {
    const payload: CallJobPayload = {
      to: call.to,
      say: call.say,
      prompt: call.prompt,
      ref: call.ref,
      userId: call.userId ?? null
    }
    await this.deps.queue.enqueue(
      CALL_JOB,
      payload,
      { key: call.key === undefined ? undefined : `call:${call.key}`, priority: CALL_PRIORITY },
      trx
    )
  }

  onAnswer(handler: CallAnswerHandler): () => void {
    this.#handlers.push(handler)
    return () => {
      const at = this.#handlers.indexOf(handler)
      if (at >= 0) this.#handlers.splice(at, 1)
    }
  }

  /** Keys pressed during a call: records call.answered and returns the first handler's answer. */
  async answered(answer: CallAnswer, trx?: Knex.Transaction): Promise<string | null> {
    const work = async (trx: Knex.Transaction) => {
      await this.deps.events.record(trx, 'call.answered', { ...answer })
      for (const handler of this.#handlers) {
        const said = await handler(answer, trx)
        if (typeof said === 'string') return said
      }
      return null
    }
    return trx ? work(trx) : this.deps.knex.transaction(work)
  }

  /** Returns undefined when placed, or the error the job ends with. */
  async #place(payload: CallJobPayload): Promise<unknown> {
    const channel = this.deps.channel()
    const base = { to: payload.to, userId: payload.userId, channel: channel?.name ?? 'none', ref: payload.ref }
    try {
      if (!channel?.call) {
        throw new MessageDeliveryError(`the messaging channel ${channel?.name ?? '(none)'} cannot place calls`, {
          permanent: true
        })
      }
      const { callId } = await channel.call({
        to: payload.to,
        say: payload.say,
        prompt: payload.prompt,
        ref: payload.ref
      })
      await this.deps.events.emit('call.placed', { ...base, callId })
      return undefined
    } catch (err) {
      const permanent = err instanceof MessageDeliveryError && err.permanent
      const error = err instanceof Error ? err.message : String(err)
      if (!permanent) {
        this.deps.logger.warn({ err, to: payload.to }, 'placing a call failed; it will be retried')
        return err
      }
      await this.deps.events.emit('call.failed', { ...base, error, permanent: true })
      return new PermanentJobError(`call failed permanently: ${error}`)
    }
  }
}
