import type { Knex } from 'knex'
import type { Logger } from 'pino'
import { DURESS_REPLY_RECORDED_AS } from '../alarms/duress.js'
import type { Clock } from '../clock.js'
import { chunks } from '../db/chunks.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { Probe, User } from '../db/models/index.js'
import { PROBE_STATUS_ID } from '../domain/constants.js'
import { ConflictError } from '../domain/errors.js'
import {
  onDemandProbeStartKey,
  probeAskTextKey,
  probeFireKey,
  probeFollowUpKey,
  probeFollowUpTextKey,
  probeTextRef,
  scheduledProbeStartKey
} from '../queue/keys.js'
import type { KronusJobs } from '../queue/types.js'
import type { ProbeFirePayload } from '../scheduling/probe-fire-job.js'
import { inTransaction } from '../services/context.js'
import { inDistinctRounds } from '../util/distinct-rounds.js'
import { followUpDueAt, type QuietHours, quietHoursOf, quietPeriodAt } from '../util/quiet-hours.js'
import { batchOrEach } from './batch-or-each.js'
import { mergeOnDemandRequest } from './daily-allowance.js'
import { PROBE_JOBS } from './jobs.js'
import { probeTexts } from './messages.js'
import type { AlarmRaiser, ProbeEventLog, ProbeJobQueue, ProbeMessenger } from './ports.js'
import { classifyReply, parseReply } from './replies.js'
import { changeProbeStatus, changeProbeStatuses, type StatusChange } from './status-change.js'

export interface ProbeLifecycleDeps {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: ProbeJobQueue
  events: ProbeEventLog
  messaging: ProbeMessenger
  alarms: AlarmRaiser
  /** kronus.cron.timeZone: the zone of quiet hours for users who set none. */
  defaultTimeZone: string
}

/** A user's quiet hours in their zone, as the timers read them. */
interface QuietSetting {
  quiet: QuietHours | null
  timeZone: string
}

/** The probe_settings columns a fire decides by. */
interface FireSettings extends QuietSetting {
  active: boolean
  max_retries: number
  wait_time_in_minutes: number
  paused_until: number | null
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
  | { started: false; reason: 'no_user' | 'already_pending' | 'already_started' | 'answered_in_advance' }

/** One probe to start, as start() is asked for it. */
interface StartRequest extends StartOptions {
  userId: number
}

interface PendingProbe {
  id: number
  retry_count: number
}

/** A start's outcome before the probe is read back as a model; a skipped start for a pending probe says which. */
type StartOutcome =
  | { started: true; probeId: number }
  | { started: false; reason: 'no_user' | 'already_started' | 'answered_in_advance'; pending?: undefined }
  | { started: false; reason: 'already_pending'; pending: PendingProbe }

export type ReplyOutcome = 'good' | 'bad' | 'not_understood' | 'no_pending_probe'

export interface ReplyResult {
  outcome: ReplyOutcome
  probeId: number | null
  /** Text to answer the sender with, or null when this text is no answer to a probe. */
  answer: string | null
}

/** A text (or a press of the check-in link) taken as the answer to the user's pending probe. */
interface ReplyToProbe {
  userId: number
  text: string
  mode: 'text' | 'duress' | 'link'
}

/** A probe.follow_up timer: `retry` follow-ups had been sent when it was set. */
type FollowUpPayload = KronusJobs['probe.follow_up']

/** The columns of a probe its timer decides by. */
interface TimedProbe {
  id: number
  userId: number
  pending: boolean
  retryCount: number
  maxRetries: number
  waitTimeInMinutes: number
}

const MINUTE = 60_000
/** probe.fire jobs taken at once: each batch starts its probes in one transaction. */
export const FIRE_BATCH_SIZE = 250
/** probe.follow_up jobs taken at once: each batch sends its follow-ups in one transaction. */
export const FOLLOW_UP_BATCH_SIZE = 250

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
    queue.defineBatch(PROBE_JOBS.fire, (jobs) => this.fireMany(jobs.map((job) => job.payload)), {
      batchSize: FIRE_BATCH_SIZE
    })
    // Timers of probes started together come due together: a fan-out's 100k follow-ups.
    queue.defineBatch(PROBE_JOBS.followUp, (jobs) => this.followUpMany(jobs.map((job) => job.payload)), {
      batchSize: FOLLOW_UP_BATCH_SIZE
    })
    queue.define(PROBE_JOBS.startOnDemand, async (payload) => {
      await this.startOnDemand(payload)
    })
  }

  /** Creates a pending probe, asks the user and sets its first timer, all in one transaction: a batch of one. */
  async start(userId: number, options: StartOptions, trx?: Knex.Transaction): Promise<StartResult> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      const [outcome] = await this.#startMany([{ userId, ...options }], trx)
      return this.#result(outcome!, trx)
    })
  }

  /**
   * The scheduler's cron fire: skipped when probes were turned off, the user is gone, or a
   * probe is still pending (whose timer it then makes sure of). A batch of one.
   */
  async fire(fire: ProbeFirePayload): Promise<StartResult | null> {
    return inTransaction(this.deps.knex, undefined, async (trx) => {
      const [outcome] = await this.#fireBatch([fire], trx)
      return outcome === null ? null : this.#result(outcome!, trx)
    })
  }

  /**
   * fire() for many fires at once, as the queue hands them over when a minute's schedules
   * come due together: the probes, their flips, probe.started events, texts and timers
   * are written by a few multi-row statements in one transaction. Each fire decides as
   * fire() would (fire() is this with one fire). Should the batch fail as a whole (a
   * rival started one of these probes in between, say), each fire is run on its own
   * instead, so one cannot hold back the rest. Returns each fire's outcome: undefined, or
   * the error it failed with.
   */
  async fireMany(fires: ProbeFirePayload[]): Promise<unknown[]> {
    // A user twice in one batch (two fire times due) is fired on their own afterwards, as a second fire is.
    return batchOrEach(fires, {
      keyOf: (fire) => fire.userId,
      batch: (first) => inTransaction(this.deps.knex, undefined, (trx) => this.#fireBatch(first, trx)),
      each: (fire) => this.fire(fire),
      onBatchFailed: (err, n) =>
        this.deps.logger.warn({ err, fires: n }, 'batched probe fire failed; firing one at a time')
    })
  }

  /** What start() and fire() answer: the started probe as a model, or why none started. */
  async #result(outcome: StartOutcome, trx: Knex.Transaction): Promise<StartResult> {
    if (!outcome.started) return { started: false, reason: outcome.reason }
    const probe = await Probe.query(trx).findById(outcome.probeId)
    return { started: true, probe: probe! }
  }

  /**
   * The fire rules, for one fire or many (each user at most once): a fire of a user whose
   * probes are off, or who is gone, is ignored (null); the others start a scheduled probe
   * with the user's settings, keyed by the fire so that a fire run twice starts one. A
   * fire that finds a probe still pending re-arms that probe's timer.
   */
  async #fireBatch(fires: ProbeFirePayload[], trx: Knex.Transaction): Promise<Array<StartOutcome | null>> {
    const { logger } = this.deps
    const settingsByUser = new Map<number, FireSettings>()
    for (const ids of chunks(fires.map((f) => f.userId))) {
      const rows = await trx('probe_settings')
        .select(
          'user_id',
          'active',
          'max_retries',
          'wait_time_in_minutes',
          'paused_until',
          'time_zone',
          'quiet_hours_start',
          'quiet_hours_end'
        )
        .whereIn('user_id', ids)
      for (const row of rows) {
        settingsByUser.set(Number(row.user_id), {
          active: Boolean(row.active),
          max_retries: Number(row.max_retries),
          wait_time_in_minutes: Number(row.wait_time_in_minutes),
          paused_until: row.paused_until == null ? null : Number(row.paused_until),
          ...this.#quietSetting(row)
        })
      }
    }
    // While an alarm of the user is open their check-ins wait; they resume when it is resolved.
    const alarmed = await this.deps.alarms.usersWithOpenAlarm(
      trx,
      fires.map((f) => f.userId)
    )
    const deferred: Array<{ fire: ProbeFirePayload; to: number }> = []
    const wanted = fires.filter((fire) => {
      if (alarmed.has(fire.userId)) {
        logger.info({ userId: fire.userId, fireAt: fire.fireAt }, 'probe fire skipped: an alarm of the user is open')
        return false
      }
      const settings = settingsByUser.get(fire.userId)
      if (!settings?.active) {
        logger.info(
          { userId: fire.userId, fireAt: fire.fireAt },
          'probe fire ignored: probes are off or the user is gone'
        )
        return false
      }
      if (settings.paused_until !== null && fire.fireAt < settings.paused_until) {
        logger.info(
          { userId: fire.userId, fireAt: fire.fireAt, pausedUntil: settings.paused_until },
          'probe fire skipped: the user paused their check-ins'
        )
        return false
      }
      const quiet = settings.quiet && quietPeriodAt(fire.fireAt, settings.quiet, settings.timeZone)
      if (quiet) {
        deferred.push({ fire, to: quiet.end })
        return false
      }
      return true
    })
    await this.#deferToQuietEnd(deferred, trx)
    const answeredInAdvance = await this.#answeredByProofOfLife(wanted, settingsByUser, trx)
    const toStart = wanted.filter((fire) => !answeredInAdvance.has(fire))
    const started = await this.#startMany(
      toStart.map((fire) => {
        const settings = settingsByUser.get(fire.userId)!
        return {
          userId: fire.userId,
          origin: 'scheduled' as const,
          maxRetries: settings.max_retries,
          waitTimeInMinutes: settings.wait_time_in_minutes,
          startKey: scheduledProbeStartKey(fire.userId, fire.fireAt)
        }
      }),
      trx
    )
    const outcomes = new Map<ProbeFirePayload, StartOutcome>(toStart.map((fire, i) => [fire, started[i]!]))
    for (const fire of answeredInAdvance) outcomes.set(fire, { started: false, reason: 'answered_in_advance' })
    for (const [fire, outcome] of outcomes) {
      if (outcome.started || outcome.reason === 'answered_in_advance') continue
      logger.info({ userId: fire.userId, fireAt: fire.fireAt, reason: outcome.reason }, 'scheduled probe skipped')
      if (outcome.reason === 'already_pending') await this.#rearm(fire.userId, outcome.pending!, trx)
    }
    return fires.map((fire) => outcomes.get(fire) ?? null)
  }

  /**
   * A press of the user's check-in link (proof of life) at most checkin_window_minutes
   * before a scheduled fire answers that check-in in advance: no text is sent, and the
   * check-in is kept as a scheduled probe that went from pending to good at once, its
   * reason saying when the link was pressed, so the user's history shows it answered.
   * Each proof answers one check-in. Returns the fires so answered.
   */
  async #answeredByProofOfLife(
    fires: ProbeFirePayload[],
    settingsByUser: Map<number, { max_retries: number; wait_time_in_minutes: number }>,
    trx: Knex.Transaction
  ): Promise<Set<ProbeFirePayload>> {
    const answered = new Set<ProbeFirePayload>()
    const proofs = new Map<number, { at: number; window: number }>()
    for (const ids of chunks(fires.map((f) => f.userId))) {
      const rows = await trx('checkin_links as l')
        .join('probe_settings as s', 's.user_id', 'l.user_id')
        .select('l.user_id', 'l.proof_of_life_at', 's.checkin_window_minutes')
        .whereIn('l.user_id', ids)
        .whereNotNull('l.proof_of_life_at')
        .where('s.checkin_window_minutes', '>', 0)
      for (const row of rows)
        proofs.set(Number(row.user_id), {
          at: Number(row.proof_of_life_at),
          window: Number(row.checkin_window_minutes)
        })
    }
    const candidates = fires.filter((fire) => {
      const proof = proofs.get(fire.userId)
      return proof !== undefined && proof.at <= fire.fireAt && proof.at >= fire.fireAt - proof.window * MINUTE
    })
    for (const fire of candidates) {
      const { userId, fireAt } = fire
      const proof = proofs.get(userId)!
      const startKey = scheduledProbeStartKey(userId, fireAt)
      // A check-in already waiting or this fire already started: the usual start rules decide.
      if (await trx('probes').where({ pending_user_id: userId }).orWhere({ start_key: startKey }).first('id')) continue
      const used = await trx('checkin_links')
        .where({ user_id: userId, proof_of_life_at: proof.at })
        .update({ proof_of_life_at: null })
      if (used !== 1) continue
      const settings = settingsByUser.get(userId)!
      const now = this.deps.clock.now()
      const [inserted] = await trx('probes')
        .insert({
          user_id: userId,
          probe_status_id: PROBE_STATUS_ID.pending,
          last_response: '',
          retry_count: 0,
          max_retries: settings.max_retries,
          wait_time_in_minutes: settings.wait_time_in_minutes,
          origin: 'scheduled',
          pending_user_id: userId,
          start_key: startKey,
          created_at: now,
          updated_at: now
        })
        .returning('id')
      const probeId = Number(typeof inserted === 'object' ? inserted.id : inserted)
      await trx('probe_status_changes').insert({
        probe_id: probeId,
        user_id: userId,
        from_status: null,
        to_status: 'pending',
        reason: 'scheduled probe',
        created_at: now
      })
      const minutes = Math.round((fireAt - proof.at) / MINUTE)
      await this.changeStatus(trx, {
        probeId,
        userId,
        to: 'good',
        reason: `answered in advance: check-in link pressed ${minutes} minute(s) before, within the ${proof.window}-minute window`
      })
      this.deps.logger.info({ userId, fireAt, probeId }, 'scheduled probe answered in advance by proof of life')
      answered.add(fire)
    }
    return answered
  }

  /**
   * The start rules, for one probe or many (each user at most once): a start is skipped
   * when the user is gone, its start key was used before, or the user has a probe
   * pending. The others get a pending probe, its flip row, a probe.started event, the ask
   * text and the first timer, each kind written by a few multi-row statements. Outcomes
   * are in the order of `requests`.
   */
  async #startMany(requests: StartRequest[], trx: Knex.Transaction): Promise<StartOutcome[]> {
    const users = new Map<number, { phone_number: string; first_name: string }>()
    const startedBefore = new Set<string>()
    const pending = new Map<number, PendingProbe>()
    for (const part of chunks(requests)) {
      for (const row of await trx('users')
        .select('id', 'phone_number', 'first_name')
        .whereIn(
          'id',
          part.map((r) => r.userId)
        )) {
        users.set(Number(row.id), { phone_number: row.phone_number, first_name: row.first_name })
      }
      const keys = part.flatMap((r) => (r.startKey ? [r.startKey] : []))
      if (keys.length > 0)
        for (const row of await trx('probes').select('start_key').whereIn('start_key', keys))
          startedBefore.add(row.start_key)
      for (const row of await trx('probes')
        .select('id', 'pending_user_id', 'retry_count')
        .whereIn(
          'pending_user_id',
          part.map((r) => r.userId)
        )) {
        pending.set(Number(row.pending_user_id), { id: Number(row.id), retry_count: Number(row.retry_count) })
      }
    }

    const outcomes: StartOutcome[] = requests.map((request) => {
      if (!users.has(request.userId)) return { started: false, reason: 'no_user' }
      if (request.startKey && startedBefore.has(request.startKey)) return { started: false, reason: 'already_started' }
      const probe = pending.get(request.userId)
      if (probe) return { started: false, reason: 'already_pending', pending: probe }
      return { started: true, probeId: 0 }
    })
    const starting = requests.filter((_, i) => outcomes[i]!.started)
    if (starting.length === 0) return outcomes

    const now = this.deps.clock.now()
    const quietByUser = await this.#quietSettings(
      starting.map((r) => r.userId),
      trx
    )
    const probeIds = new Map<number, number>()
    for (const part of chunks(starting)) {
      let inserted: Array<{ id: number | string; user_id: number | string }>
      try {
        inserted = await trx('probes')
          .insert(
            part.map((request) => ({
              user_id: request.userId,
              probe_status_id: PROBE_STATUS_ID.pending,
              last_response: '',
              retry_count: 0,
              max_retries: request.maxRetries,
              wait_time_in_minutes: request.waitTimeInMinutes,
              origin: request.origin,
              pending_user_id: request.userId,
              start_key: request.startKey ?? null,
              created_at: now,
              updated_at: now
            }))
          )
          .returning(['id', 'user_id'])
      } catch (err) {
        // Another transaction started one first (only possible with several connections).
        if (uniqueViolationColumn(err) === 'pending_user_id') {
          throw new ConflictError(
            part.length === 1
              ? `a probe is already pending for user ${part[0]!.userId}`
              : 'a probe is already pending for one of these users'
          )
        }
        throw err
      }
      for (const row of inserted) probeIds.set(Number(row.user_id), Number(row.id))
    }
    requests.forEach((request, i) => {
      if (outcomes[i]!.started) outcomes[i] = { started: true, probeId: probeIds.get(request.userId)! }
    })
    // Every write below is in the order of `starting`, so each user's rows read as one start's would.
    const started = starting.map((request) => ({
      request,
      probeId: probeIds.get(request.userId)!,
      user: users.get(request.userId)!
    }))
    for (const part of chunks(started)) {
      await trx('probe_status_changes').insert(
        part.map(({ request, probeId }) => ({
          probe_id: probeId,
          user_id: request.userId,
          from_status: null,
          to_status: 'pending',
          reason: request.origin === 'scheduled' ? 'scheduled probe' : 'on-demand probe',
          created_at: now
        }))
      )
    }
    await this.deps.events.recordMany(
      trx,
      'probe.started',
      started.map(({ request, probeId }) => ({
        userId: request.userId,
        probeId,
        origin: request.origin,
        maxRetries: request.maxRetries,
        waitTimeInMinutes: request.waitTimeInMinutes
      }))
    )
    await this.deps.messaging.sendMany(
      started.map(({ request, probeId, user }) => ({
        to: user.phone_number,
        text: probeTexts.ask(user.first_name),
        userId: request.userId,
        key: probeAskTextKey(probeId),
        ref: probeTextRef(probeId)
      })),
      trx
    )
    await this.deps.queue.enqueueMany(
      PROBE_JOBS.followUp,
      started.map(({ request, probeId }) => ({
        payload: { probeId, retry: 0 },
        options: {
          runAt: this.#followUpDueAt(now, request.waitTimeInMinutes, quietByUser.get(request.userId)),
          key: probeFollowUpKey(probeId, 0),
          userId: request.userId
        }
      })),
      trx
    )
    return outcomes
  }

  /**
   * An on-demand probe whose time has come. If a check-in still waits, this one is merged
   * into it: the waiting check-in answers for both, and the request is taken back from the
   * user's on-demand allowance (the user was told so when they asked).
   */
  async startOnDemand(payload: {
    userId: number
    maxRetries: number
    waitTimeInMinutes: number
    requestId: string
  }): Promise<StartResult> {
    return inTransaction(this.deps.knex, undefined, async (trx) => {
      const result = await this.start(
        payload.userId,
        {
          origin: 'on_demand',
          maxRetries: payload.maxRetries,
          waitTimeInMinutes: payload.waitTimeInMinutes,
          startKey: onDemandProbeStartKey(payload.requestId)
        },
        trx
      )
      if (!result.started && result.reason === 'already_pending') {
        await mergeOnDemandRequest(trx, payload.requestId, this.deps.clock.now())
        this.deps.logger.info(
          { userId: payload.userId },
          'on-demand check-in merged into the one still waiting; not charged'
        )
      } else if (!result.started)
        this.deps.logger.info({ userId: payload.userId, reason: result.reason }, 'on-demand probe skipped')
      return result
    })
  }

  /**
   * The probe's timer: sends the next follow-up and sets the next timer, or, once
   * max_retries follow-ups have gone unanswered, ends the probe as unavailable. A timer
   * for a probe that has ended or moved on does nothing. A batch of one.
   */
  async followUp(timer: FollowUpPayload): Promise<void> {
    await inTransaction(this.deps.knex, undefined, (trx) => this.#followUpBatch([timer], trx))
  }

  /**
   * followUp() for many timers at once, as the queue hands them over when the probes of a
   * fan-out come due together: their probes and users are read, retry counts advanced,
   * texts, probe.follow_up_sent events and next timers written by a few multi-row
   * statements in one transaction. Each timer decides as followUp() would (followUp() is
   * this with one timer). Should the batch fail as a whole, each timer is run on its own
   * instead, so one cannot hold back the rest. Returns each timer's outcome: undefined, or
   * the error it failed with.
   */
  async followUpMany(timers: FollowUpPayload[]): Promise<unknown[]> {
    // A probe twice in one batch (a timer run again) is followed up on its own afterwards,
    // where it finds the probe moved on and does nothing.
    return batchOrEach(timers, {
      keyOf: (timer) => timer.probeId,
      batch: (first) => inTransaction(this.deps.knex, undefined, (trx) => this.#followUpBatch(first, trx)),
      each: (timer) => this.followUp(timer),
      onBatchFailed: (err, n) =>
        this.deps.logger.warn({ err, timers: n }, 'batched follow-ups failed; following up one at a time')
    })
  }

  /**
   * The timer rules, for one timer or many (each probe at most once). A timer acts only
   * on a probe still pending at the retry it was set for. After max_retries follow-ups it
   * ends the probe as unavailable: the probes whose timers ran out together change status
   * by a few multi-row statements (changeProbeStatuses, the same rules as every status
   * change), then each one's alarm is raised in this transaction, one probe at a time. Otherwise it advances the retry count by an
   * update conditional on both, so a probe answered (or followed up by a rival) since it
   * was read gets nothing; the probes whose update won get their text, event and next
   * timer.
   */
  async #followUpBatch(timers: FollowUpPayload[], trx: Knex.Transaction): Promise<void> {
    const probes = new Map<number, TimedProbe>()
    for (const ids of chunks(timers.map((t) => t.probeId))) {
      const rows = await trx('probes')
        .select('id', 'user_id', 'probe_status_id', 'retry_count', 'max_retries', 'wait_time_in_minutes')
        .whereIn('id', ids)
      for (const row of rows) {
        probes.set(Number(row.id), {
          id: Number(row.id),
          userId: Number(row.user_id),
          pending: Number(row.probe_status_id) === PROBE_STATUS_ID.pending,
          retryCount: Number(row.retry_count),
          maxRetries: Number(row.max_retries),
          waitTimeInMinutes: Number(row.wait_time_in_minutes)
        })
      }
    }
    const due = timers.flatMap((timer) => {
      const probe = probes.get(timer.probeId)
      return probe?.pending && probe.retryCount === timer.retry ? [probe] : []
    })
    await changeProbeStatuses(
      this.deps,
      trx,
      due
        .filter((p) => p.retryCount >= p.maxRetries)
        .map((probe) => ({
          probeId: probe.id,
          userId: probe.userId,
          to: 'unavailable' as const,
          atRetry: probe.retryCount,
          reason: `no reply after ${probe.retryCount} follow-up(s)`
        }))
    )
    const now = this.deps.clock.now()
    const advanced = await this.#advanceRetries(
      due.filter((p) => p.retryCount < p.maxRetries),
      now,
      trx
    )
    if (advanced.length === 0) return
    const users = new Map<number, { id: number; phone_number: string; first_name: string }>()
    for (const ids of chunks([...new Set(advanced.map((p) => p.userId))])) {
      for (const row of await trx('users').select('id', 'phone_number', 'first_name').whereIn('id', ids))
        users.set(Number(row.id), { id: Number(row.id), phone_number: row.phone_number, first_name: row.first_name })
    }
    // A user deleted meanwhile: their probe gets nothing more (deleting them deletes it).
    const following = advanced.flatMap((probe) => {
      const user = users.get(probe.userId)
      return user ? [{ probe, user, retry: probe.retryCount + 1 }] : []
    })
    if (following.length === 0) return
    await this.deps.messaging.sendMany(
      following.map(({ probe, user, retry }) => ({
        to: user.phone_number,
        text: probeTexts.followUp(user.first_name),
        userId: user.id,
        key: probeFollowUpTextKey(probe.id, retry),
        ref: probeTextRef(probe.id)
      })),
      trx
    )
    await this.deps.events.recordMany(
      trx,
      'probe.follow_up_sent',
      following.map(({ probe, user, retry }) => ({ userId: user.id, probeId: probe.id, retryCount: retry }))
    )
    const quietByUser = await this.#quietSettings(
      following.map(({ user }) => user.id),
      trx
    )
    await this.deps.queue.enqueueMany(
      PROBE_JOBS.followUp,
      following.map(({ probe, user, retry }) => ({
        payload: { probeId: probe.id, retry },
        options: {
          runAt: this.#followUpDueAt(now, probe.waitTimeInMinutes, quietByUser.get(user.id)),
          key: probeFollowUpKey(probe.id, retry),
          userId: user.id
        }
      })),
      trx
    )
  }

  /**
   * Moves each probe from its retry count to the next, if it is still pending at that
   * count: one UPDATE per retry count per few hundred probes, which returns the ids it
   * changed. Returns the probes whose update won.
   */
  async #advanceRetries(probes: TimedProbe[], now: number, trx: Knex.Transaction): Promise<TimedProbe[]> {
    const byRetry = new Map<number, TimedProbe[]>()
    for (const probe of probes) {
      const group = byRetry.get(probe.retryCount)
      if (group) group.push(probe)
      else byRetry.set(probe.retryCount, [probe])
    }
    const won = new Set<number>()
    for (const [retry, group] of byRetry) {
      for (const part of chunks(group)) {
        const rows: Array<{ id: number | string }> = await trx('probes')
          .whereIn(
            'id',
            part.map((p) => p.id)
          )
          .where({ probe_status_id: PROBE_STATUS_ID.pending, retry_count: retry })
          .update({ retry_count: retry + 1, updated_at: now })
          .returning('id')
        for (const row of rows) won.add(Number(typeof row === 'object' ? row.id : row))
      }
    }
    return probes.filter((p) => won.has(p.id))
  }

  /**
   * A text from the user. Y/N (and their variants, and distress words, which end it as
   * bad and raise the alarm at once with the words quoted) end the pending probe; anything else
   * is kept as last_response and answered with a hint, and moves no timer. Returns what
   * to answer the sender with; with no probe pending nothing changes.
   */
  async handleReply(reply: { userId: number; text: string }, trx?: Knex.Transaction): Promise<ReplyResult> {
    const [result] = await this.handleReplies([reply], trx)
    return result!
  }

  /**
   * handleReply for many texts at once (inbound texts that arrived together): the pending
   * probes are read by one query and the answers applied by one batch of status changes.
   * Each text gets what it would get alone, in the order given; a user's second text in
   * the batch is taken after their first, as if it came later.
   */
  async handleReplies(
    replies: Array<{ userId: number; text: string }>,
    trx?: Knex.Transaction
  ): Promise<ReplyResult[]> {
    return this.#replies(
      replies.map(({ userId, text }) => ({ userId, text, mode: 'text' as const })),
      trx
    )
  }

  /**
   * The user's duress word, to their waiting check-in: it ends exactly as a Y does, and is
   * recorded as one (DURESS_REPLY_RECORDED_AS: the same last_response, status change
   * reason, events and answer; the word itself is never kept), and then raises the silent
   * duress alarm for that probe. The alarm engine never texts the user about it.
   */
  async handleDuressReply(reply: { userId: number }, trx?: Knex.Transaction): Promise<ReplyResult> {
    const [result] = await this.#replies(
      [{ userId: reply.userId, text: DURESS_REPLY_RECORDED_AS, mode: 'duress' }],
      trx
    )
    return result!
  }

  /**
   * The user pressed their check-in link while a check-in waits: it ends as a Y text would
   * (status good, the same flip row and events), its reply event saying `via: 'link'`.
   * Returns false when no check-in was waiting.
   */
  async answerByLink(userId: number, trx?: Knex.Transaction): Promise<boolean> {
    const [result] = await this.#replies([{ userId, text: '', mode: 'link' }], trx)
    return result!.outcome === 'good'
  }

  async #replies(replies: ReplyToProbe[], trx?: Knex.Transaction): Promise<ReplyResult[]> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      // A user's later text must see what their earlier one did: each round holds a user once.
      return inDistinctRounds(
        replies,
        (reply) => reply.userId,
        (round) => this.#repliesOfDistinctUsers(round, trx)
      )
    })
  }

  async #repliesOfDistinctUsers(replies: ReplyToProbe[], trx: Knex.Transaction): Promise<ReplyResult[]> {
    const pending = await this.#pendingProbes(
      replies.map((r) => r.userId),
      trx
    )
    const results: ReplyResult[] = new Array(replies.length)
    const changing: Array<{ at: number; probe: Probe; meaning: 'good' | 'bad'; change: StatusChange }> = []
    const raisedBy = new Map<number, { userText: string | null }>()
    for (const [at, { userId, text, mode }] of replies.entries()) {
      const meaning = mode === 'text' ? parseReply(text) : 'good'
      const noProbe: ReplyResult = {
        outcome: 'no_pending_probe',
        probeId: null,
        answer: meaning ? probeTexts.noPendingProbe() : null
      }
      results[at] = noProbe
      const probe = pending.get(userId)
      if (!probe) {
        // A duress word always raises its alarm, even when the check-in ended a moment before.
        if (mode === 'duress') await this.deps.alarms.raise(trx, { userId, probeId: null, trigger: 'duress' })
        continue
      }
      if (!meaning) {
        results[at] = await this.#keepNotUnderstood(trx, { userId, text, probeId: probe.id }, noProbe)
        continue
      }
      const kind = classifyReply(text)
      changing.push({
        at,
        probe,
        meaning,
        change: {
          probeId: probe.id,
          userId,
          to: meaning,
          reason: mode === 'link' ? 'answered OK through the check-in link' : `replied "${text.trim()}"`,
          fields: mode === 'link' ? {} : { last_response: text },
          // A plain no is "said no", distress or panic words "distress"; either way the
          // person's own words are quoted to the contacts.
          alarm: {
            trigger: kind === 'bad' ? 'said_no' : 'distress',
            quote: text.trim(),
            answeringUser: true
          },
          onRaised: (raised) => {
            raisedBy.set(at, raised)
          },
          precedingEvents: [
            {
              type: 'probe.reply_received',
              payload: {
                userId,
                probeId: probe.id,
                text,
                understood: true,
                ...(mode === 'link' ? { via: 'link' as const } : {})
              }
            }
          ]
        }
      })
    }
    if (changing.length === 0) return results
    const won = await changeProbeStatuses(
      this.deps,
      trx,
      changing.map((c) => c.change)
    )
    for (const [i, { at, probe }] of changing.entries()) {
      if (replies[at]!.mode === 'duress')
        await this.deps.alarms.raise(trx, {
          userId: Number(probe.user_id),
          probeId: won[i] ? probe.id : null,
          trigger: 'duress'
        })
    }
    const good = changing.filter((c, i) => won[i] && c.meaning === 'good')
    const firstNames = await this.#firstNames(
      good.map((c) => Number(c.probe.user_id)),
      trx
    )
    for (const [i, { at, probe, meaning }] of changing.entries()) {
      if (!won[i]) continue
      const answer =
        meaning === 'good'
          ? probeTexts.good(firstNames.get(Number(probe.user_id)) ?? '')
          : (raisedBy.get(at)?.userText ?? probeTexts.bad())
      results[at] = { outcome: meaning, probeId: probe.id, answer }
    }
    return results
  }

  /** A text that is no answer: kept as the probe's last_response and answered with a hint. */
  async #keepNotUnderstood(
    trx: Knex.Transaction,
    { userId, text, probeId }: { userId: number; text: string; probeId: number },
    noProbe: ReplyResult
  ): Promise<ReplyResult> {
    const kept = await trx('probes')
      .where({ id: probeId, probe_status_id: PROBE_STATUS_ID.pending })
      .update({ last_response: text, updated_at: this.deps.clock.now() })
    if (kept !== 1) return noProbe
    await this.deps.events.record(trx, 'probe.reply_received', { userId, probeId, text, understood: false })
    return { outcome: 'not_understood', probeId, answer: probeTexts.notUnderstood() }
  }

  /** The users among `userIds` with a probe pending. */
  async pendingUsers(userIds: number[], trx: Knex.Transaction): Promise<Set<number>> {
    return new Set((await this.#pendingProbes(userIds, trx)).keys())
  }

  async #pendingProbes(userIds: number[], trx: Knex.Transaction): Promise<Map<number, Probe>> {
    const byUser = new Map<number, Probe>()
    for (const ids of chunks(userIds)) {
      for (const probe of await Probe.query(trx).whereIn('pending_user_id', ids))
        byUser.set(Number(probe.user_id), probe)
    }
    return byUser
  }

  async #firstNames(userIds: number[], trx: Knex.Transaction): Promise<Map<number, string>> {
    const byUser = new Map<number, string>()
    for (const ids of chunks(userIds)) {
      const rows: Array<{ id: number | string; first_name: string | null }> = await trx('users')
        .select('id', 'first_name')
        .whereIn('id', ids)
      for (const row of rows) byUser.set(Number(row.id), row.first_name ?? '')
    }
    return byUser
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
  async #rearm(userId: number, probe: { id: number; retry_count: number }, trx: Knex.Transaction): Promise<void> {
    const rearmed = await this.deps.queue.enqueue(
      PROBE_JOBS.followUp,
      { probeId: probe.id, retry: probe.retry_count },
      { key: probeFollowUpKey(probe.id, probe.retry_count), userId },
      trx
    )
    if (rearmed)
      this.deps.logger.warn({ userId, probeId: probe.id }, 'a pending probe had lost its timer; it was set again')
  }

  /**
   * When a follow-up waiting `waitTimeInMinutes` from `now` is due: the wait does not run
   * in the user's quiet hours, so the part of it inside them is served after (see
   * followUpDueAt). The timer is set with this time: quiet hours changed later move no
   * timer already set.
   */
  #followUpDueAt(now: number, waitTimeInMinutes: number, quiet: QuietSetting | undefined): number {
    return followUpDueAt(now, waitTimeInMinutes * MINUTE, quiet?.quiet ?? null, quiet?.timeZone ?? 'UTC')
  }

  #quietSetting(row: {
    time_zone: string | null
    quiet_hours_start: string | null
    quiet_hours_end: string | null
  }): QuietSetting {
    return { quiet: quietHoursOf(row), timeZone: row.time_zone ?? this.deps.defaultTimeZone }
  }

  async #quietSettings(userIds: number[], trx: Knex.Transaction): Promise<Map<number, QuietSetting>> {
    const byUser = new Map<number, QuietSetting>()
    for (const ids of chunks(userIds)) {
      const rows = await trx('probe_settings')
        .select('user_id', 'time_zone', 'quiet_hours_start', 'quiet_hours_end')
        .whereIn('user_id', ids)
      for (const row of rows) byUser.set(Number(row.user_id), this.#quietSetting(row))
    }
    return byUser
  }

  /**
   * Scheduled fires that fell in the user's quiet hours: each becomes a fire at the end of
   * them, keyed like the scheduler's own fire at that time, so several fires in one night
   * (an hourly cron) become one check-in, and a cron that also fires at the end starts one
   * probe (the start key is the fire time). That fire is decided afresh when it comes: a
   * pause or a check-in still waiting then skips it as any fire.
   */
  async #deferToQuietEnd(deferred: Array<{ fire: ProbeFirePayload; to: number }>, trx: Knex.Transaction) {
    if (deferred.length === 0) return
    for (const { fire, to } of deferred) {
      this.deps.logger.info(
        { userId: fire.userId, fireAt: fire.fireAt, movedTo: to },
        'probe fire in quiet hours: moved to their end'
      )
    }
    await this.deps.queue.enqueueMany(
      PROBE_JOBS.fire,
      deferred.map(({ fire, to }) => ({
        payload: { userId: fire.userId, fireAt: to },
        options: { runAt: to, key: probeFireKey(fire.userId, to), userId: fire.userId }
      })),
      trx
    )
  }
}
