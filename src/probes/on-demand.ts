import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import { Contact, Probe, User } from '../db/models/index.js'
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError } from '../domain/errors.js'
import { inTransaction } from '../services/context.js'
import { queuedOnDemandCovering, takeOnDemandAllowance } from './daily-allowance.js'
import { PROBE_JOBS } from './jobs.js'
import type { ProbeLifecycle } from './lifecycle.js'
import type { ProbeJobQueue } from './ports.js'

export interface OnDemandRequest {
  /** Minutes from now; 0 starts the probe at once. */
  inMinutes: number
  retries: number
  waitMinutes: number
}

export interface OnDemandResult {
  startsAt: number
  /** The probe, when it started at once; null while it waits for its time. */
  probe: Probe | null
  /**
   * True when the request was added to a delayed check-in the user had already asked for,
   * which starts at startsAt and would be in its first wait then: nothing new is queued
   * and the allowance is not charged.
   */
  merged: boolean
  /**
   * A check-in waits for the user's answer now. A delayed request that comes due while it
   * still waits is merged into it and not charged, so the user should be told.
   */
  checkInWaiting: boolean
}

export interface OnDemandDeps {
  knex: Knex
  clock: Clock
  config: KronusConfig
  queue: ProbeJobQueue
  lifecycle: ProbeLifecycle
  /** The user's text allowance (messaging): a check-in is at least one text. */
  texts: { textsLeft(userId: number, trx?: Knex.Transaction): Promise<number> }
}

/** When the text allowance is spent, try again within the hour (the oldest hour's texts stop counting). */
const TEXTS_RETRY_AFTER_SEC = 3600

/**
 * Probes a user asks for ("check on me in 30 minutes"). Each costs texts, so each user
 * gets config probes.onDemandDailyLimit of them in any 24 hours (not per local day: a
 * change of time_zone gains nothing), and none while their text allowance
 * (limits.textsPerUserPerDay) is spent.
 *
 * A delayed check-in that comes due while another waits is merged into the waiting one
 * and not charged. A delayed request for a time within the first wait of a delayed
 * check-in already asked for (between its ask and its first follow-up) is the same
 * request twice: it is added to that one at once (nothing queued, not charged) and says
 * so; any other is queued as asked.
 */
export class OnDemandProbes {
  constructor(private readonly deps: OnDemandDeps) {}

  async request(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      // The user's row lock serialises their requests: two cannot both take the last one.
      if (!(await User.query(trx).findById(userId).forUpdate())) throw new NotFoundError(`user ${userId} not found`)
      const emergency = await Contact.query(trx).where({ user_id: userId, is_emergency_contact: true }).first()
      if (!emergency) throw new ForbiddenError('an emergency contact is required before asking for a probe')
      const now = this.deps.clock.now()
      const startsAt = now + input.inMinutes * 60_000
      const checkInWaiting = (await this.deps.lifecycle.pendingProbe(userId, trx)) !== undefined

      if (input.inMinutes > 0) {
        const covering = await queuedOnDemandCovering(trx, userId, startsAt, now)
        if (covering) return { startsAt: covering.startsAt, probe: null, merged: true, checkInWaiting }
      }
      const requestId = randomUUID()
      await takeOnDemandAllowance(
        trx,
        { requestId, userId, startsAt, retries: input.retries, waitMinutes: input.waitMinutes },
        { now, limit: this.deps.config.probes.onDemandDailyLimit }
      )
      if ((await this.deps.texts.textsLeft(userId, trx)) === 0) {
        throw new RateLimitedError(
          `the texts this user may be sent in 24 hours are spent (limits.textsPerUserPerDay ${this.deps.config.limits.textsPerUserPerDay}, or the server's); try again later`,
          TEXTS_RETRY_AFTER_SEC
        )
      }

      if (input.inMinutes === 0) {
        const result = await this.deps.lifecycle.start(
          userId,
          { origin: 'on_demand', maxRetries: input.retries, waitTimeInMinutes: input.waitMinutes },
          trx
        )
        // Throwing also rolls back the allowance just taken.
        if (!result.started) throw new ConflictError('a probe is already pending; answer it first')
        const probe = await Probe.query(trx).findById(result.probe.id).withGraphFetched('[status, emergency_probe]')
        probe!.emergency_probe ??= null
        return { startsAt: now, probe: probe!, merged: false, checkInWaiting: false }
      }

      await this.deps.queue.enqueue(
        PROBE_JOBS.startOnDemand,
        { userId, maxRetries: input.retries, waitTimeInMinutes: input.waitMinutes, requestId },
        { runAt: startsAt, userId },
        trx
      )
      return { startsAt, probe: null, merged: false, checkInWaiting }
    })
  }
}
