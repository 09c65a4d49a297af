import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import type { ProbeFirePayload } from '../scheduling/probe-fire-job.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { Probe, ProbeSettings, User } from '../db/models/index.js'
import { PROBE_STATUS_ID } from '../domain/constants.js'
import { ConflictError } from '../domain/errors.js'
import { inTransaction } from '../services/context.js'
import { PROBE_JOBS } from './jobs.js'
import { probeTexts } from './messages.js'
import type { ProbeEventLog, ProbeJobQueue, ProbeMessenger } from './ports.js'
import { parseReply } from './replies.js'
import { changeProbeStatus, type StatusChange } from './status-change.js'

export interface ProbeLifecycleDeps {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: ProbeJobQueue
  events: ProbeEventLog
  messaging: ProbeMessenger
}

export interface StartOptions {
  origin: 'scheduled' | 'on_demand'
  maxRetries: number
  waitTimeInMinutes: number
  /** Identifies what started the probe; a second start with the same key does nothing. */
  startKey?: string | null
}

export type StartResult =
  | { started: true; probe: Probe }
  | { started: false; reason: 'no_user' | 'already_pending' | 'already_started' }

export type ReplyOutcome = 'good' | 'bad' | 'not_understood' | 'no_pending_probe'

export interface ReplyResult {
  outcome: ReplyOutcome
  probeId: number | null
  /** Text to answer the sender with, or null when this text is no answer to a probe. */
  answer: string | null
}

const MINUTE = 60_000

/**
 * The probe state machine: pending → good | bad | unavailable | cancelled.
 *
 * A pending probe has exactly one timer, a `probe.follow_up` job set when the probe
 * starts and again when each follow-up is sent, and at no other time: whatever the user
 * texts in between, escalation happens on schedule.
 */
export class ProbeLifecycle {
  constructor(private readonly deps: ProbeLifecycleDeps) {}

  registerJobs(): void {
    const { queue } = this.deps
    queue.define(PROBE_JOBS.fire, async (payload) => {
      await this.fire(payload)
    })
    queue.define(PROBE_JOBS.followUp, async (payload) => {
      await this.followUp(payload)
    })
    queue.define(PROBE_JOBS.startOnDemand, async (payload) => {
      await this.startOnDemand(payload)
    })
  }

  /** Creates a pending probe, asks the user and sets its first timer, all in one transaction. */
  async start(userId: number, options: StartOptions, trx?: Knex.Transaction): Promise<StartResult> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      const user = await User.query(trx).findById(userId)
      if (!user) return { started: false, reason: 'no_user' }
      if (options.startKey && (await trx('probes').where({ start_key: options.startKey }).first('id'))) {
        return { started: false, reason: 'already_started' }
      }
      if (await this.pendingProbe(userId, trx)) return { started: false, reason: 'already_pending' }

      const now = this.deps.clock.now()
      let probe: Probe
      try {
        probe = await Probe.query(trx).insertAndFetch({
          user_id: userId,
          probe_status_id: PROBE_STATUS_ID.pending,
          last_response: '',
          retry_count: 0,
          max_retries: options.maxRetries,
          wait_time_in_minutes: options.waitTimeInMinutes,
          origin: options.origin,
          pending_user_id: userId,
          start_key: options.startKey ?? null,
          created_at: now,
          updated_at: now
        })
      } catch (err) {
        // Another transaction started one first (only possible with several connections).
        if (uniqueViolationColumn(err) === 'pending_user_id') throw new ConflictError(`a probe is already pending for user ${userId}`)
        throw err
      }

      await trx('probe_status_changes').insert({
        probe_id: probe.id,
        user_id: userId,
        from_status: null,
        to_status: 'pending',
        reason: options.origin === 'scheduled' ? 'scheduled probe' : 'on-demand probe',
        created_at: now
      })
      await this.deps.events.record(trx, 'probe.started', {
        userId,
        probeId: probe.id,
        origin: options.origin,
        maxRetries: options.maxRetries,
        waitTimeInMinutes: options.waitTimeInMinutes
      })
      await this.deps.messaging.send({ to: user.phone_number, text: probeTexts.ask(user.first_name), userId, key: `probe:${probe.id}:ask` }, trx)
      await this.setTimer(probe.id, userId, 0, options.waitTimeInMinutes, now, trx)
      return { started: true, probe }
    })
  }

  /**
   * The scheduler's cron fire: skipped when probes were turned off, the user is gone, or a
   * probe is still pending (whose timer it then makes sure of).
   */
  async fire({ userId, fireAt }: ProbeFirePayload): Promise<StartResult | null> {
    return inTransaction(this.deps.knex, undefined, async (trx) => {
      const settings = await ProbeSettings.query(trx).findOne({ user_id: userId })
      if (!settings?.active) {
        this.deps.logger.info({ userId, fireAt }, 'probe fire ignored: probes are off or the user is gone')
        return null
      }
      const result = await this.start(
        userId,
        { origin: 'scheduled', maxRetries: settings.max_retries, waitTimeInMinutes: settings.wait_time_in_minutes, startKey: `fire:${userId}:${fireAt}` },
        trx
      )
      if (!result.started) {
        this.deps.logger.info({ userId, fireAt, reason: result.reason }, 'scheduled probe skipped')
        if (result.reason === 'already_pending') await this.rearmTimer(userId, trx)
      }
      return result
    })
  }

  /** An on-demand probe whose time has come; skipped (and logged) if one is still pending. */
  async startOnDemand(payload: { userId: number; maxRetries: number; waitTimeInMinutes: number; requestId: string }): Promise<StartResult> {
    const result = await this.start(payload.userId, {
      origin: 'on_demand',
      maxRetries: payload.maxRetries,
      waitTimeInMinutes: payload.waitTimeInMinutes,
      startKey: `on_demand:${payload.requestId}`
    })
    if (!result.started) this.deps.logger.info({ userId: payload.userId, reason: result.reason }, 'on-demand probe skipped')
    return result
  }

  /**
   * The probe's timer: sends the next follow-up and sets the next timer, or, once
   * max_retries follow-ups have gone unanswered, ends the probe as unavailable. A timer
   * for a probe that has ended or moved on does nothing.
   */
  async followUp({ probeId, retry }: { probeId: number; retry: number }): Promise<void> {
    await inTransaction(this.deps.knex, undefined, async (trx) => {
      const probe = await Probe.query(trx).findById(probeId)
      if (!probe || probe.probe_status_id !== PROBE_STATUS_ID.pending || probe.retry_count !== retry) return
      if (retry >= probe.max_retries) {
        await this.changeStatus(trx, { probeId, userId: probe.user_id, to: 'unavailable', reason: `no reply after ${retry} follow-up(s)` })
        return
      }
      const now = this.deps.clock.now()
      const advanced = await trx('probes')
        .where({ id: probeId, probe_status_id: PROBE_STATUS_ID.pending, retry_count: retry })
        .update({ retry_count: retry + 1, updated_at: now })
      if (advanced !== 1) return
      const user = await User.query(trx).findById(probe.user_id)
      if (!user) return
      await this.deps.messaging.send(
        { to: user.phone_number, text: probeTexts.followUp(user.first_name), userId: user.id, key: `probe:${probeId}:follow_up:${retry + 1}` },
        trx
      )
      await this.deps.events.record(trx, 'probe.follow_up_sent', { userId: user.id, probeId, retryCount: retry + 1 })
      await this.setTimer(probeId, user.id, retry + 1, probe.wait_time_in_minutes, now, trx)
    })
  }

  /**
   * A text from the user. Y/N (and their variants) end the pending probe; anything else
   * is kept as last_response and answered with a hint, and moves no timer. Returns what
   * to answer the sender with; with no probe pending nothing changes.
   */
  async handleReply({ userId, text }: { userId: number; text: string }, trx?: Knex.Transaction): Promise<ReplyResult> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      const meaning = parseReply(text)
      const noProbe: ReplyResult = { outcome: 'no_pending_probe', probeId: null, answer: meaning ? probeTexts.noPendingProbe() : null }
      const probe = await this.pendingProbe(userId, trx)
      if (!probe) return noProbe
      const now = this.deps.clock.now()

      if (!meaning) {
        const kept = await trx('probes')
          .where({ id: probe.id, probe_status_id: PROBE_STATUS_ID.pending })
          .update({ last_response: text, updated_at: now })
        if (kept !== 1) return noProbe
        await this.deps.events.record(trx, 'probe.reply_received', { userId, probeId: probe.id, text, understood: false })
        return { outcome: 'not_understood', probeId: probe.id, answer: probeTexts.notUnderstood() }
      }

      const won = await this.changeStatus(trx, {
        probeId: probe.id,
        userId,
        to: meaning,
        reason: `replied "${text.trim()}"`,
        fields: { last_response: text },
        beforeEvents: async () => {
          await this.deps.events.record(trx, 'probe.reply_received', { userId, probeId: probe.id, text, understood: true })
        }
      })
      if (!won) return noProbe
      const user = await User.query(trx).findById(userId)
      const answer = meaning === 'good' ? probeTexts.good(user?.first_name ?? '') : probeTexts.bad()
      return { outcome: meaning, probeId: probe.id, answer }
    })
  }

  /** handleReply for a text from a phone number; null when the number is no user's. */
  async handleReplyFromPhone(phoneNumber: string, text: string, trx?: Knex.Transaction): Promise<ReplyResult | null> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      const user = await User.query(trx).findOne({ phone_number: phoneNumber })
      return user ? this.handleReply({ userId: user.id, text }, trx) : null
    })
  }

  /** Cancels the user's pending probe, if any; true when one was cancelled. */
  async cancelPending(userId: number, reason: string, trx?: Knex.Transaction): Promise<boolean> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      const probe = await this.pendingProbe(userId, trx)
      if (!probe) return false
      return this.changeStatus(trx, { probeId: probe.id, userId, to: 'cancelled', reason })
    })
  }

  async pendingProbe(userId: number, trx?: Knex.Transaction): Promise<Probe | undefined> {
    return Probe.query(trx ?? this.deps.knex).findOne({ pending_user_id: userId })
  }

  private changeStatus(trx: Knex.Transaction, change: StatusChange): Promise<boolean> {
    return changeProbeStatus(this.deps, trx, change)
  }

  /**
   * A probe whose timer job died (it failed on every attempt) would stay pending for
   * good, and block every later fire. Enqueueing its current timer again is a no-op while
   * that timer is live (same key), and restarts the escalation when it is not.
   */
  private async rearmTimer(userId: number, trx: Knex.Transaction): Promise<void> {
    const probe = await this.pendingProbe(userId, trx)
    if (!probe) return
    const rearmed = await this.deps.queue.enqueue(
      PROBE_JOBS.followUp,
      { probeId: probe.id, retry: probe.retry_count },
      { key: `probe.follow_up:${probe.id}:${probe.retry_count}`, userId },
      trx
    )
    if (rearmed) this.deps.logger.warn({ userId, probeId: probe.id }, 'a pending probe had lost its timer; it was set again')
  }

  private async setTimer(probeId: number, userId: number, retry: number, waitTimeInMinutes: number, now: number, trx: Knex.Transaction): Promise<void> {
    await this.deps.queue.enqueue(
      PROBE_JOBS.followUp,
      { probeId, retry },
      { runAt: now + waitTimeInMinutes * MINUTE, key: `probe.follow_up:${probeId}:${retry}`, userId },
      trx
    )
  }
}
