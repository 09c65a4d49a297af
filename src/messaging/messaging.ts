import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import { inSavepoint } from '../db/savepoint.js'
import type { EventLog } from '../events/log.js'
import type { KronusEvents, NewEvent } from '../events/types.js'
import { JobNotRunError } from '../queue/errors.js'
import type { JobQueue } from '../queue/job-queue.js'
import { messageSendKey } from '../queue/keys.js'
import {
  type BatchControl,
  type BatchJob,
  type EnqueueOptions,
  type JobRow,
  PermanentJobError
} from '../queue/types.js'
import { inDistinctRounds } from '../util/distinct-rounds.js'
import { type CallAnswer, type CallAnswerHandler, Calls, type OutgoingCall } from './calls.js'
import { MessageDeliveryError, type MessagingChannel } from './channel.js'
import { ChannelHealth } from './channel-health.js'
import { SendLedger, type UnfinishedSend } from './send-ledger.js'
import { type AllowanceClass, TextAllowance, type TextLimits } from './text-allowance.js'

export interface SendJobPayload {
  to: string
  text: string
  userId: number | null
  /** Set on an alarm's text only: sent first in its batch and paced ahead of other texts. */
  priority?: 'emergency'
  /** OutgoingMessage.ref; absent when the sender named none (and in jobs queued before refs existed). */
  ref?: string
  /** OutgoingMessage.hiddenFromUser; absent when false. */
  hiddenFromUser?: true
}

declare module '../queue/types.js' {
  interface KronusJobs {
    /** One outgoing text, sent through the default channel. */
    'message.send': SendJobPayload
  }
}

export const SEND_JOB = 'message.send'
/** Texts claimed at once; their message.sent events are written in one transaction. */
export const SEND_BATCH_SIZE = 100
/** The job priority of an alarm's text: as a call's (CALL_PRIORITY), ahead of every other job. */
export const EMERGENCY_SEND_PRIORITY = 10
/** How long an alarm's text is retried after transient failures by default (`alarms.alertRetryMinutes`). */
export const DEFAULT_EMERGENCY_RETRY_MS = 30 * 60_000
/** Texts of a batch handed to the channel at the same time (a channel may pace them further). */
const SEND_PARALLELISM = 8
/**
 * A batch starts no new text after this long; the rest go back to the queue untouched,
 * so a slow or paced channel never runs a batch into its timeout with texts half sent.
 */
const SEND_BATCH_BUDGET_MS = 20_000
/** After an abort, how long a batch waits for texts still with the channel before it answers. */
const SEND_ABORT_WAIT_MS = 2_000

/** The longest OutgoingMessage.ref (the size of message_sends.ref). */
export const MAX_REF_LENGTH = 160

/** What messaging needs of the job queue. */
export type MessageQueue = Pick<JobQueue, 'defineBatch' | 'enqueue' | 'enqueueMany' | 'onPrune'>

export interface OutgoingMessage {
  to: string
  text: string
  /**
   * The user the text is about: recorded with its events, so they can see it, and a text
   * still waiting when that user is deleted is dropped with their other jobs (unless it
   * is an emergency text).
   */
  userId?: number | null
  /** While a message with this key waits to be sent, sending it again is a no-op. */
  key?: string
  /**
   * `emergency`: an alarm's text. It is taken ahead of every other job and paced ahead of
   * other texts, retried with backoff for at least 30 minutes instead of given up in
   * seconds, and still sent when its user is deleted while it waits. Default `normal`.
   */
  priority?: 'emergency' | 'normal'
  /**
   * What the text is for (e.g. `alarm-contact:12`): carried on its message.sent,
   * message.failed, message.delivered and message.undelivered events, so whoever sent it
   * can follow it.
   */
  ref?: string
  /**
   * How the text stands against `limits.textsPerUserPerDay` (of `userId`) and
   * `limits.textsPerServerPerDay`, counted over the last 24 hours when it is queued:
   * - `counted` (the default): always queued, and counted. Check-in asks and follow-ups
   *   are counted and never refused: refusing one mid-check-in would raise a false alarm
   *   or leave the person unmonitored without anyone knowing (their rate is bounded by
   *   the schedule's smallest interval instead); so are the notices that keep a person
   *   told the truth about their check-ins.
   * - `refusable`: not queued when the user's or the server's allowance is spent; send()
   *   then resolves to false, and `limit.reached` (once per limit and user a day) and a
   *   warning are written. For texts that may wait or be asked for again: an emergency
   *   contact's invitation, say.
   * A text with priority `emergency` (an alarm's, all-clears included) is never counted
   * nor refused, whatever this says.
   */
  allowance?: 'counted' | 'refusable'
  /**
   * The text's events (message.sent, .failed, .delivered, .undelivered) are about `userId`
   * but hidden from them (RecordOptions in src/events/log.ts): a duress alarm's alerts.
   */
  hiddenFromUser?: boolean
}

export interface IncomingMessage {
  from: string
  text: string
  /** The channel it came through, e.g. "twilio". */
  channel: string
  messageId?: string | null
}

/**
 * A provider's word on what became of a text it accepted (Twilio's status callback):
 * `delivered` to the phone, or `undelivered`/`failed` with the provider's error code.
 */
export interface DeliveryReport {
  channel: string
  messageId: string
  to: string
  status: 'delivered' | 'undelivered' | 'failed'
  errorCode: number | null
  error: string | null
  /**
   * The provider blamed the account, not this text or its recipient (Twilio 30034: the
   * sender is not registered for A2P 10DLC; 30002: the account is suspended): every text
   * will fail the same way until the operator acts. Recorded for the watchdog.
   */
  accountLevel?: boolean
}

/** An inbound text from a known user, as inbound handlers see it. */
export interface InboundText {
  from: string
  text: string
  channel: string
  messageId: string | null
  /** The user whose phone number sent it. */
  userId: number
}

/**
 * Answers an inbound text: the text to reply with, or null to let the next handler try.
 * It runs in the transaction that records the text's message.received, so its writes
 * commit with that record or not at all.
 */
export type InboundHandler = (message: InboundText, trx: Knex.Transaction) => Promise<string | null> | string | null

/**
 * Answers the texts of a batch that no other handler answered, all at once: per text, in
 * order, the reply or null. Runs in the transaction that records the texts.
 */
export type UnansweredInboundHandler = (messages: InboundText[], trx: Knex.Transaction) => Promise<Array<string | null>>

/** An inbound text from any phone, as the first handlers (the alarm engine's) see it. */
export interface AnyInboundText extends Omit<InboundText, 'userId'> {
  /** The user whose phone sent it, or null: an emergency contact answering an alert is no user. */
  userId: number | null
}

/**
 * What an inbound text is recorded as (its message.received event) when it must not be
 * kept as sent, or null to keep it as sent. Handlers still see the text as sent.
 */
export type InboundRecorder = (message: AnyInboundText, trx: Knex.Transaction) => Promise<string | null>

/** Like InboundHandler, for texts from any phone: asked before every user handler. */
export type AnyInboundHandler = (
  message: AnyInboundText,
  trx: Knex.Transaction
) => Promise<string | null> | string | null

/**
 * Given the texts of a batch, before any is handled (it may read what they need by one
 * query each), the AnyInboundHandler that is then asked about each of them, in order.
 */
export type AnyInboundPreparer = (texts: AnyInboundText[], trx: Knex.Transaction) => Promise<AnyInboundHandler>

export interface InboundResult {
  /** The user whose phone sent the text, or null for an unknown sender (no handler ran). */
  userId: number | null
  /** What the first handler that answered said, or null when none did. */
  reply: string | null
}

export interface MessagingOptions {
  knex: Knex
  clock: Clock
  events: EventLog
  queue: MessageQueue
  logger: Logger
  /** The daily text limits (`limits.textsPerUserPerDay`, `limits.textsPerServerPerDay`). */
  limits: TextLimits
  /**
   * How long an alarm's text (priority `emergency`) is retried after transient failures,
   * with backoff of at most a minute, before it is given up. Default 30 minutes.
   */
  emergencyRetryMs?: number
}

/** A permanent failure whose message.failed event is already recorded. */
export class PermanentSendFailure extends PermanentJobError {
  override name = 'PermanentSendFailure'
  constructor(readonly failure: MessageDeliveryError) {
    super(`message failed permanently: ${failure.message}`)
  }
}

/**
 * The registry of messaging channels and the way every text leaves Kronus. A text is a
 * durable job written in the caller's transaction: it is sent if and only if the change
 * that asked for it commits, and it is still sent after a crash. Through a channel that
 * can reconcile (Twilio) it is sent exactly once, even when a worker dies between the
 * provider's answer and Kronus's record of it; through one that cannot (the dev console),
 * at least once.
 */
export class Messaging {
  readonly #channels = new Map<string, MessagingChannel>()
  #defaultChannel: string | null = null
  #defaultLocked = false
  readonly #knex: Knex
  readonly #events: EventLog
  readonly #queue: MessageQueue
  readonly #logger: Logger
  readonly #inboundHandlers: RegisteredHandler[] = []
  readonly #unansweredHandlers: UnansweredInboundHandler[] = []
  readonly #firstHandlers: AnyInboundPreparer[] = []
  readonly #recorders: InboundRecorder[] = []
  readonly #ledger: SendLedger
  readonly #health: ChannelHealth
  readonly #clock: Clock
  readonly #calls: Calls
  readonly #emergencyRetryMs: number
  readonly #allowance: TextAllowance
  /** Provider ids this process sent or matched and has not recorded yet: never matched by reconciling. */
  readonly #claiming = new Set<string>()

  constructor(options: MessagingOptions) {
    this.#knex = options.knex
    this.#events = options.events
    this.#queue = options.queue
    this.#logger = options.logger
    this.#ledger = new SendLedger(options.knex)
    this.#health = new ChannelHealth(options.knex)
    this.#clock = options.clock
    this.#emergencyRetryMs = options.emergencyRetryMs ?? DEFAULT_EMERGENCY_RETRY_MS
    this.#allowance = new TextAllowance({
      clock: options.clock,
      events: options.events,
      logger: options.logger,
      limits: options.limits
    })
    this.#queue.onPrune((knex) => this.#allowance.prune(knex))
    this.#calls = new Calls({ ...options, channel: () => this.defaultChannel })
    this.#queue.defineBatch(SEND_JOB, (jobs, signal, control) => this.#deliverBatch(jobs, signal, control), {
      batchSize: SEND_BATCH_SIZE,
      // One user's 500 alarm texts take turns with another user's one, batch after batch.
      fairAcrossUsers: true
    })
  }

  /**
   * Adds a channel. The first one registered, or a later one registered with
   * `default: true`, is the one texts go through. `lock` keeps the default from changing
   * afterwards (dev mode pins its console channel so nothing real is ever sent).
   */
  registerChannel(channel: MessagingChannel, options: { default?: boolean; lock?: boolean } = {}): void {
    if (!channel?.name || typeof channel.send !== 'function')
      throw new Error('a messaging channel needs a name and a send() function')
    if (this.#channels.has(channel.name)) throw new Error(`messaging channel "${channel.name}" is already registered`)
    this.#channels.set(channel.name, channel)
    const wantsDefault = options.default === true || this.#defaultChannel === null
    if (wantsDefault && this.#defaultLocked) {
      this.#logger.info(
        { channel: channel.name, default: this.#defaultChannel },
        'channel registered but not used: the default channel is pinned (dev mode)'
      )
      return
    }
    if (wantsDefault) this.#defaultChannel = channel.name
    if (options.lock) this.#defaultLocked = true
  }

  channel(name: string): MessagingChannel | undefined {
    return this.#channels.get(name)
  }

  get defaultChannel(): MessagingChannel | undefined {
    return this.#defaultChannel === null ? undefined : this.#channels.get(this.#defaultChannel)
  }

  /**
   * Queues a text in the caller's transaction (or its own): see the class comment. Resolves
   * to true when it was queued (and counted, see OutgoingMessage.allowance), false when it
   * is `refusable` and the user's or the server's 24-hour allowance is spent: then nothing
   * is queued and the caller should tell whoever asked (a 429, say).
   */
  async send(message: OutgoingMessage, trx?: Knex.Transaction): Promise<boolean> {
    const [queued] = await this.sendMany([message], trx)
    return queued!
  }

  /**
   * send() for many texts, in multi-row inserts (a fan-out queues one per user): resolves
   * to whether each was queued, in order. Counted texts cost one upsert per user (in
   * multi-row statements) and no read.
   */
  async sendMany(messages: OutgoingMessage[], trx?: Knex.Transaction): Promise<boolean[]> {
    const jobs = messages.map((message) => this.#sendJob(message))
    const classes = messages.map(allowanceOf)
    // Alarms' texts alone (an alert's fan-out) touch no counter.
    if (classes.every((c) => c === 'exempt')) {
      await this.#queue.enqueueMany(SEND_JOB, jobs, trx)
      return jobs.map(() => true)
    }
    const work = async (trx: Knex.Transaction): Promise<boolean[]> => {
      const queued = await this.#allowance.admit(
        trx,
        messages.map((message, i) => ({ userId: message.userId ?? null, allowance: classes[i]! }))
      )
      await this.#queue.enqueueMany(
        SEND_JOB,
        jobs.filter((_, i) => queued[i]),
        trx
      )
      return queued
    }
    return trx ? work(trx) : this.#knex.transaction(work)
  }

  /**
   * Texts that may still be sent to or about this user now: what is left of their own
   * 24-hour allowance or the server's, whichever is smaller. A refusable text goes while
   * this is above 0.
   */
  async textsLeft(userId: number, trx?: Knex.Transaction): Promise<number> {
    return this.#allowance.left(trx ?? this.#knex, userId)
  }

  /**
   * The job of a text. An alarm's text (priority `emergency`) is claimed ahead of every
   * other job and retried after transient failures for `emergencyRetryMs`, never given up
   * after a few seconds of provider errors.
   */
  #sendJob(message: OutgoingMessage): { payload: SendJobPayload; options: EnqueueOptions } {
    const payload: SendJobPayload = { to: message.to, text: message.text, userId: message.userId ?? null }
    if (message.ref !== undefined) {
      // message_sends.ref holds it; a longer one would fail the whole batch's record at send time.
      if (typeof message.ref !== 'string' || message.ref.length === 0 || message.ref.length > MAX_REF_LENGTH) {
        throw new RangeError(`a text's ref must be 1 to ${MAX_REF_LENGTH} characters`)
      }
      payload.ref = message.ref
    }
    if (message.hiddenFromUser === true) payload.hiddenFromUser = true
    const options: EnqueueOptions = { key: message.key === undefined ? undefined : messageSendKey(message.key) }
    if (typeof payload.userId === 'number') options.userId = payload.userId
    if (message.priority === 'emergency') {
      payload.priority = 'emergency'
      options.priority = EMERGENCY_SEND_PRIORITY
      options.retryForMs = this.#emergencyRetryMs
    }
    return { payload, options }
  }

  /** Queues a voice call in the caller's transaction (or its own), as send() queues a text. */
  async call(call: OutgoingCall, trx?: Knex.Transaction): Promise<void> {
    await this.#calls.call(call, trx)
  }

  /** Adds a handler for keys pressed during a call; the first that answers wins. */
  onCallAnswer(handler: CallAnswerHandler): () => void {
    return this.#calls.onAnswer(handler)
  }

  /** Keys pressed during a call (from the channel's webhook): call.answered, then the handlers. */
  async callAnswered(answer: CallAnswer, trx?: Knex.Transaction): Promise<string | null> {
    return this.#calls.answered(answer, trx)
  }

  /**
   * A delivery receipt: records message.delivered or message.undelivered, with the ref and
   * user of the text when Kronus still has its send on record.
   */
  async deliveryReport(report: DeliveryReport, trx?: Knex.Transaction): Promise<void> {
    const work = async (trx: Knex.Transaction) => {
      const send:
        | { ref: string | null; user_id: number | string | null; hidden_from_user: boolean | number }
        | undefined = await trx('message_sends')
        .select('ref', 'user_id', 'hidden_from_user')
        .where({ channel: report.channel, provider_id: report.messageId })
        .first()
      const base = {
        to: report.to,
        userId: send?.user_id == null ? null : Number(send.user_id),
        channel: report.channel,
        messageId: report.messageId,
        ref: send?.ref ?? null
      }
      const now = this.#clock.now()
      if (report.status === 'delivered') await this.#health.delivery(trx, report.channel, { delivered: true }, now)
      else {
        const accountError = report.accountLevel ? (report.error ?? report.status) : null
        await this.#health.delivery(trx, report.channel, { delivered: false, accountError }, now)
      }
      const hidden = { hiddenFromUser: Boolean(send?.hidden_from_user) }
      if (report.status === 'delivered') await this.#events.record(trx, 'message.delivered', base, hidden)
      else
        await this.#events.record(
          trx,
          'message.undelivered',
          {
            ...base,
            status: report.status,
            errorCode: report.errorCode,
            error: report.error ?? report.status
          },
          hidden
        )
    }
    await (trx ? work(trx) : this.#knex.transaction(work))
  }

  /**
   * Adds a handler for inbound texts from known users. Handlers are asked in the order
   * they were added, and the first that answers wins. Returns a function that removes it.
   */
  onInbound(handler: InboundHandler, options: InboundHandlerOptions = {}): () => void {
    if (typeof handler !== 'function') throw new Error('an inbound handler must be a function')
    if (options.claims !== undefined && typeof options.claims !== 'function')
      throw new Error('an inbound handler’s claims must be a function')
    const registered: RegisteredHandler = { handler, allowance: options.replies ?? 'counted', claims: options.claims }
    this.#inboundHandlers.push(registered)
    return () => {
      const at = this.#inboundHandlers.indexOf(registered)
      if (at >= 0) this.#inboundHandlers.splice(at, 1)
    }
  }

  /**
   * Adds a handler for the users' texts no other handler answered (the probe lifecycle's
   * check-in answers), asked after all of them with every such text of a batch at once.
   * Its replies are counted against the text allowance. Returns a function that removes it.
   */
  onUnansweredInbound(handler: UnansweredInboundHandler): () => void {
    if (typeof handler !== 'function') throw new Error('an inbound handler must be a function')
    this.#unansweredHandlers.push(handler)
    return () => {
      const at = this.#unansweredHandlers.indexOf(handler)
      if (at >= 0) this.#unansweredHandlers.splice(at, 1)
    }
  }

  /**
   * Adds a handler that sees every inbound text, from users and from phones that are no
   * user's (emergency contacts answering an alert), before every other handler. It is
   * prepared once for each batch of texts, then asked about each. Returns a function that
   * removes it.
   */
  onAnyInbound(handler: AnyInboundPreparer): () => void {
    if (typeof handler !== 'function') throw new Error('an inbound handler must be a function')
    this.#firstHandlers.push(handler)
    return () => {
      const at = this.#firstHandlers.indexOf(handler)
      if (at >= 0) this.#firstHandlers.splice(at, 1)
    }
  }

  /**
   * Adds a recorder for inbound texts: the first that names another text has the text
   * recorded as that (a duress word is recorded as the Y it answers as: see
   * src/alarms/duress.ts). Returns a function that removes it.
   */
  recordInboundAs(recorder: InboundRecorder): () => void {
    if (typeof recorder !== 'function') throw new Error('an inbound recorder must be a function')
    this.#recorders.push(recorder)
    return () => {
      const at = this.#recorders.indexOf(recorder)
      if (at >= 0) this.#recorders.splice(at, 1)
    }
  }

  /**
   * An inbound text: records message.received once, naming the user whose phone sent it,
   * and asks the inbound handlers for the reply, all in one transaction (the caller's, when
   * given). The handlers of onAnyInbound come first and see every sender; a sender who
   * is no user reaches no other handler.
   */
  async receive(message: IncomingMessage, trx?: Knex.Transaction): Promise<InboundResult> {
    const [result] = await this.receiveMany([message], trx)
    return result!
  }

  /**
   * Inbound texts that arrived together (webhook requests gathered into one transaction):
   * each is handled as `receive` would handle it, in the order given, and gets its own
   * result. Their senders are looked up by one query and their message.received events
   * recorded by one insert; the texts no other handler answered (check-in answers) are
   * applied together by the unanswered-text handlers. A sender's second text in the batch is
   * taken after their first is answered, as if it came later.
   */
  async receiveMany(messages: IncomingMessage[], trx?: Knex.Transaction): Promise<InboundResult[]> {
    const work = (trx: Knex.Transaction): Promise<InboundResult[]> =>
      inDistinctRounds(
        messages,
        (message) => message.from,
        (round) => this.#receiveFromDistinctPhones(round, trx)
      )
    return trx ? work(trx) : this.#knex.transaction(work)
  }

  async #receiveFromDistinctPhones(messages: IncomingMessage[], trx: Knex.Transaction): Promise<InboundResult[]> {
    const users = await this.#usersByPhone(
      messages.map((m) => m.from),
      trx
    )
    const texts: AnyInboundText[] = messages.map((message) => ({
      from: message.from,
      text: message.text,
      channel: message.channel,
      messageId: message.messageId ?? null,
      userId: users.get(message.from) ?? null
    }))
    const recorded: NewEvent[] = []
    for (const text of texts) {
      let as = text.text
      for (const recorder of this.#recorders) {
        const named = await recorder({ ...text }, trx)
        if (typeof named === 'string') {
          as = named
          break
        }
      }
      const { from, userId, channel, messageId } = text
      recorded.push({ type: 'message.received', payload: { from, text: as, userId, channel, messageId } })
    }
    await this.#events.recordEach(trx, recorded)

    const firstHandlers: AnyInboundHandler[] = []
    for (const prepare of this.#firstHandlers) firstHandlers.push(await prepare(texts, trx))
    const results: InboundResult[] = texts.map(({ userId }) => ({ userId, reply: null }))
    const unanswered: Array<{ at: number; text: InboundText }> = []
    for (const [at, text] of texts.entries()) {
      const reply = await this.#answerOne(text, firstHandlers, trx)
      if (reply === undefined) unanswered.push({ at, text: text as InboundText })
      else results[at] = { userId: text.userId, reply }
    }
    for (const handler of this.#unansweredHandlers) {
      if (unanswered.length === 0) break
      const replies = await handler(
        unanswered.map(({ text }) => ({ ...text })),
        trx
      )
      const answered = unanswered.filter((_, i) => typeof replies[i] === 'string')
      await this.#allowance.admit(
        trx,
        answered.map(({ text }) => ({ userId: text.userId, allowance: 'counted' as const }))
      )
      unanswered.forEach(({ at }, i) => {
        const reply = replies[i]
        if (typeof reply === 'string') results[at] = { userId: results[at]!.userId, reply }
      })
      unanswered.splice(0, unanswered.length, ...unanswered.filter((_, i) => typeof replies[i] !== 'string'))
    }
    return results
  }

  /**
   * One text through the first handlers and then, from a user, the inbound handlers: the
   * reply, null when the text is done with no reply, or undefined when it is a user's text
   * that no handler answered, left to the unanswered-text handlers.
   */
  async #answerOne(
    text: AnyInboundText,
    firstHandlers: AnyInboundHandler[],
    trx: Knex.Transaction
  ): Promise<string | null | undefined> {
    for (const handler of firstHandlers) {
      const reply = await handler({ ...text }, trx)
      if (typeof reply === 'string') return reply
    }
    const { userId } = text
    if (userId === null) return null
    const inbound: InboundText = { ...text, userId }
    for (const { handler, allowance, claims } of this.#inboundHandlers) {
      if (claims && !claims(text.text)) continue
      if (allowance === 'refusable' && (await this.#allowance.left(trx, userId)) === 0) {
        // Over the allowance a command does nothing and gets no answer; the text stays recorded.
        if (await answersInSavepoint(handler, { ...inbound }, trx)) {
          await this.#allowance.refused(trx, userId)
          this.#logger.info({ userId }, 'a reply was not sent: the text allowance is spent')
          return null
        }
        continue
      }
      const reply = await handler({ ...inbound }, trx)
      if (typeof reply === 'string') {
        await this.#allowance.admit(trx, [{ userId, allowance: 'counted' }])
        return reply
      }
    }
    return undefined
  }

  async #usersByPhone(phones: string[], trx: Knex.Transaction): Promise<Map<string, number>> {
    const byPhone = new Map<string, number>()
    for (const part of chunks([...new Set(phones)])) {
      const rows: Array<{ id: number | string; phone_number: string }> = await trx('users')
        .select('id', 'phone_number')
        .whereIn('phone_number', part)
      for (const row of rows) byPhone.set(row.phone_number, Number(row.id))
    }
    return byPhone
  }

  /**
   * For the queue's dead-job hook: a text that ran out of retries is a failed message. One
   * that failed permanently (its last run's error, `cause`, is a PermanentSendFailure)
   * already has its message.failed event.
   */
  async sendJobDied(job: Pick<JobRow, 'name' | 'payload' | 'last_error'>, cause?: unknown): Promise<void> {
    if (job.name !== SEND_JOB || cause instanceof PermanentSendFailure) return
    const payload = JSON.parse(job.payload) as SendJobPayload
    await this.#events.emit(
      'message.failed',
      {
        to: payload.to,
        text: payload.text,
        userId: payload.userId,
        channel: this.#defaultChannel ?? 'none',
        error: job.last_error ?? 'unknown error',
        permanent: false,
        ...refOf(payload)
      },
      hiddenOf(payload)
    )
  }

  /**
   * Sends a batch of texts, a few at a time. First every text of the batch is recorded as
   * in flight, committed, so that no text reaches the provider unrecorded. Texts that went
   * out are recorded as they go: their message.sent events, the provider's ids and the end
   * of their jobs are written together, by one transaction for all the texts sent since
   * the last one. A text whose earlier run left it in flight (its worker died after the
   * request, or the answer or its record was lost) is reconciled with the provider before
   * anything is sent: found, it is recorded as sent; not found, it is sent. Each text ends
   * on its own: sent, failed (retried), failed for good (message.failed), or not tried
   * (the batch's time ran out or it was aborted first), and then it goes back to the
   * queue as it was.
   */
  async #deliverBatch(
    jobs: Array<BatchJob<SendJobPayload>>,
    signal: AbortSignal,
    control: BatchControl
  ): Promise<unknown[]> {
    const channel = this.defaultChannel
    if (!channel) throw new Error('no messaging channel is registered: configure an SMS plugin')
    // Wall time, not the injectable clock: the budget guards against a real channel's
    // slowness, and a send's start is compared with the provider's clock when reconciling.
    const startedAt = Date.now()
    const unfinished = await this.#ledger.begin(
      jobs.map((job) => ({
        jobId: job.run.id,
        ref: job.payload.ref ?? null,
        userId: job.payload.userId ?? null,
        hiddenFromUser: job.payload.hiddenFromUser === true
      })),
      channel.name,
      startedAt
    )
    const outcomes: unknown[] = new Array(jobs.length).fill(undefined)
    const inFlight = new Set<number>()
    const recorder = new SentRecorder(async (sent) => {
      try {
        await this.#knex.transaction(async (trx) => {
          await this.#events.recordMany(
            trx,
            'message.sent',
            sent.map((s) => s.event),
            { hiddenFromUser: sent.map((s) => s.hiddenFromUser) }
          )
          const finished = sent.map((s) => ({ jobId: s.jobId, providerId: s.event.messageId }))
          await this.#ledger.finish(trx, finished, Date.now())
          await this.#health.sent(trx, channel.name, this.#clock.now())
          await control.complete(
            sent.map((s) => s.index),
            trx
          )
        })
      } catch (err) {
        // As when a single text's record failed: those texts are tried again (reconciled first).
        for (const { index } of sent) outcomes[index] = err
      } finally {
        for (const { event } of sent) if (event.messageId !== null) this.#claiming.delete(event.messageId)
      }
    })
    // The order texts are handed to the channel in: alarms' first, then users in turn.
    const order = sendingOrder(jobs)
    let next = 0
    const sender = async () => {
      for (let k = next++; k < order.length; k = next++) {
        const i = order[k]!
        // The run's deadline, not only its signal: a late abort timer on a busy machine must
        // not let a text start once the lock may lapse and another worker reconcile and send it.
        const { payload, run } = jobs[i]!
        if (signal.aborted || Date.now() - startedAt > SEND_BATCH_BUDGET_MS || this.#clock.now() >= run.deadline) {
          outcomes[i] = new JobNotRunError()
          continue
        }
        inFlight.add(i)
        try {
          const earlier = unfinished.get(run.id)
          const found = earlier ? await this.#reconcile(channel, payload, earlier, run.id) : null
          const text = {
            to: payload.to,
            text: payload.text,
            ...(payload.priority ? { priority: payload.priority } : {})
          }
          const messageId = found ?? (await channel.send(text)).messageId ?? null
          // Until it is recorded, no reconciling text of this process may take it for its own.
          if (found === null && messageId !== null) this.#claiming.add(messageId)
          const event: KronusEvents['message.sent'] = {
            to: payload.to,
            text: payload.text,
            userId: payload.userId,
            channel: channel.name,
            messageId,
            ...refOf(payload)
          }
          recorder.add({ index: i, jobId: run.id, event, hiddenFromUser: payload.hiddenFromUser === true })
        } catch (err) {
          outcomes[i] = await this.#sendFailed(channel.name, payload, err, run.id, run.attempt)
        } finally {
          inFlight.delete(i)
        }
      }
    }
    const senders = Promise.all(Array.from({ length: Math.min(SEND_PARALLELISM, jobs.length) }, sender))
    await Promise.race([senders, abortedFor(signal, SEND_ABORT_WAIT_MS)])
    // Texts still with the channel after an abort are failed as a timed-out single text is.
    for (const i of inFlight) outcomes[i] = signal.reason
    for (let k = next; k < order.length; k++) outcomes[order[k]!] = new JobNotRunError()
    await recorder.drained()
    await this.#forgetUntried(jobs, outcomes, unfinished)
    return outcomes
  }

  /**
   * The provider's id of a text an earlier run left in flight, when the provider has it
   * (it is then recorded, not sent), or null when it must be sent. Throws, and sends
   * nothing, when the provider cannot be asked now: the job is retried.
   */
  async #reconcile(
    channel: MessagingChannel,
    payload: SendJobPayload,
    earlier: UnfinishedSend,
    jobId: number
  ): Promise<string | null> {
    if (!channel.reconcile || earlier.channel !== channel.name) {
      this.#logger.warn(
        { jobId, channel: channel.name },
        'an earlier send has no recorded outcome and the channel cannot reconcile: sending again (at least once)'
      )
      return null
    }
    let listed: string[]
    try {
      listed = await channel.reconcile({ to: payload.to, text: payload.text }, earlier.startedAt)
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new MessageDeliveryError(`could not reconcile an earlier send with ${channel.name}: ${reason}`, {
        permanent: false,
        cause: err
      })
    }
    const free = (await this.#ledger.unclaimed(channel.name, listed)).filter((id) => !this.#claiming.has(id))
    // Listed newest first; the oldest unclaimed is the one sent closest to the earlier run's start.
    const match = free.at(-1) ?? null
    if (match !== null) this.#claiming.add(match)
    this.#logger.info(
      { jobId, channel: channel.name, messageId: match },
      match === null
        ? 'reconciled: the provider never accepted this text; sending it'
        : 'reconciled: the provider had accepted this text; recorded as sent, not sent again'
    )
    return match
  }

  /** Texts never handed to the channel drop their in-flight record: their next run need not reconcile. */
  async #forgetUntried(
    jobs: Array<BatchJob<SendJobPayload>>,
    outcomes: unknown[],
    unfinished: Map<number, UnfinishedSend>
  ): Promise<void> {
    const untried = jobs.flatMap((job, i) =>
      outcomes[i] instanceof JobNotRunError && !unfinished.has(job.run.id) ? [job.run.id] : []
    )
    try {
      await this.#ledger.forget(untried)
    } catch (err) {
      // Harmless: their next run asks the provider first and finds nothing.
      this.#logger.warn({ err, jobs: untried.length }, 'could not drop the in-flight records of texts not tried')
    }
  }

  /** Records a failed send for the watchdog; a failure to record it is logged, never the send's outcome. */
  async #recordFailure(channelName: string, err: unknown): Promise<void> {
    const error = err instanceof Error ? err.message : String(err)
    const accountLevel = err instanceof MessageDeliveryError && err.accountLevel
    try {
      await this.#health.failed(channelName, error, accountLevel, this.#clock.now())
    } catch (recordError) {
      this.#logger.warn({ err: recordError, channel: channelName }, 'could not record a failed send for the watchdog')
    }
  }

  /** The outcome of a text the channel refused: a permanent failure is recorded once and not retried. */
  async #sendFailed(
    channelName: string,
    payload: SendJobPayload,
    err: unknown,
    jobId: number,
    attempt: number
  ): Promise<unknown> {
    await this.#recordFailure(channelName, err)
    if (!(err instanceof MessageDeliveryError && err.permanent)) {
      this.#logger.warn({ err, jobId, attempt, channel: channelName }, 'sending a text failed; it will be retried')
      return err
    }
    try {
      await this.#events.emit(
        'message.failed',
        {
          to: payload.to,
          text: payload.text,
          userId: payload.userId,
          channel: channelName,
          error: err.message,
          permanent: true,
          ...refOf(payload)
        },
        hiddenOf(payload)
      )
    } catch (recordError) {
      return recordError
    }
    return new PermanentSendFailure(err)
  }
}

/**
 * Indexes of a batch's texts in the order they are sent: alarms' texts first, then, within
 * each, one text per user in turn (round-robin by userId, texts about no user as one more
 * "user"), each user's in the order claimed. So a user with 100 texts in the batch delays
 * another user's text by one turn, not by 100 texts.
 */
export function sendingOrder(jobs: ReadonlyArray<{ payload: SendJobPayload }>): number[] {
  const order: number[] = []
  for (const emergency of [true, false]) {
    const byUser = new Map<number | null, number[]>()
    jobs.forEach((job, i) => {
      if ((job.payload.priority === 'emergency') !== emergency) return
      const list = byUser.get(job.payload.userId) ?? []
      list.push(i)
      byUser.set(job.payload.userId, list)
    })
    const lines = [...byUser.values()]
    for (let turn = 0; order.length < jobs.length; turn++) {
      let took = false
      for (const line of lines) {
        if (turn < line.length) {
          order.push(line[turn]!)
          took = true
        }
      }
      if (!took) break
    }
  }
  return order
}

export interface InboundHandlerOptions {
  /**
   * Which texts the handler may answer, by their words alone (a command's parser): the
   * others pass it by without a call, and without the read of the text allowance a
   * `refusable` handler costs. Must not read anything but the text.
   */
  claims?(text: string): boolean
  /**
   * How the handler's replies stand against the daily text limits, as
   * OutgoingMessage.allowance: `counted` (the default; answers to a check-in) or
   * `refusable` (command replies). Over the allowance a refusable handler's work is
   * rolled back and its reply not sent; the inbound text stays recorded. Replies of the
   * first handlers (onAnyInbound: the alarm engine's) are an alarm's and never counted.
   */
  replies?: 'counted' | 'refusable'
}

interface RegisteredHandler {
  handler: InboundHandler
  allowance: 'counted' | 'refusable'
  claims: ((text: string) => boolean) | undefined
}

class ReplyRefused extends Error {}

/** Runs a handler in a savepoint that is rolled back if it answers: true when it did. */
async function answersInSavepoint(handler: InboundHandler, inbound: InboundText, trx: Knex.Transaction) {
  try {
    await inSavepoint(trx, async (savepoint) => {
      if (typeof (await handler(inbound, savepoint)) === 'string') throw new ReplyRefused()
    })
    return false
  } catch (err) {
    if (err instanceof ReplyRefused) return true
    throw err
  }
}

function allowanceOf(message: OutgoingMessage): AllowanceClass {
  if (message.priority === 'emergency') return 'exempt'
  return message.allowance === 'refusable' ? 'refusable' : 'counted'
}

/** How the text's events are recorded: hidden from its user when the sender said so. */
function hiddenOf(payload: SendJobPayload): { hiddenFromUser: boolean } {
  return { hiddenFromUser: payload.hiddenFromUser === true }
}

/** The text's ref for its events: the key only when the sender named one. */
function refOf(payload: SendJobPayload): { ref?: string } {
  return payload.ref === undefined ? {} : { ref: payload.ref }
}

interface SentText {
  index: number
  jobId: number
  event: KronusEvents['message.sent']
  hiddenFromUser: boolean
}

/**
 * Group commit for sent texts: while one write is in progress the texts sent meanwhile
 * wait, and the next write takes all of them, so a fast channel costs one transaction
 * per many texts and a slow one gets each text recorded as soon as it is out.
 */
class SentRecorder {
  #waiting: SentText[] = []
  #writing: Promise<void> | null = null

  constructor(private readonly write: (texts: SentText[]) => Promise<void>) {}

  add(text: SentText): void {
    this.#waiting.push(text)
    this.#writing ??= this.#drain()
  }

  async drained(): Promise<void> {
    while (this.#writing) await this.#writing
  }

  async #drain(): Promise<void> {
    // Lets the other senders' texts of this turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve))
    while (this.#waiting.length > 0) {
      const texts = this.#waiting.sort((a, b) => a.index - b.index)
      this.#waiting = []
      await this.write(texts)
    }
    this.#writing = null
  }
}

/** Resolves `graceMs` after `signal` aborts; never, if it does not. */
function abortedFor(signal: AbortSignal, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const wait = () => setTimeout(resolve, graceMs).unref()
    if (signal.aborted) wait()
    else signal.addEventListener('abort', wait, { once: true })
  })
}
