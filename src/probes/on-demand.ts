import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import type { KronusConfig } from '../config/types.js'
import { Contact, Probe, ProbeSettings, User } from '../db/models/index.js'
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors.js'
import { inTransaction } from '../services/context.js'
import { takeOnDemandAllowance } from './daily-allowance.js'
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
}

export interface OnDemandDeps {
  knex: Knex
  clock: Clock
  config: KronusConfig
  queue: ProbeJobQueue
  lifecycle: ProbeLifecycle
}

/**
 * Probes a user asks for ("check on me in 30 minutes"). Each costs texts, so each user
 * gets config probes.onDemandDailyLimit of them per calendar day in their own time zone
 * (their probe settings' time_zone, else kronus.cron.timeZone).
 */
export class OnDemandProbes {
  constructor(private readonly deps: OnDemandDeps) {}

  async request(userId: number, input: OnDemandRequest, trx?: Knex.Transaction): Promise<OnDemandResult> {
    return inTransaction(this.deps.knex, trx, async (trx) => {
      if (!(await User.query(trx).findById(userId))) throw new NotFoundError(`user ${userId} not found`)
      const emergency = await Contact.query(trx).where({ user_id: userId, is_emergency_contact: true }).first()
      if (!emergency) throw new ForbiddenError('an emergency contact is required before asking for a probe')
      const settings = await ProbeSettings.query(trx).findOne({ user_id: userId })
      const now = this.deps.clock.now()
      await takeOnDemandAllowance(trx, {
        userId,
        now,
        timeZone: settings?.time_zone ?? this.deps.config.kronus.cron.timeZone,
        limit: this.deps.config.probes.onDemandDailyLimit
      })

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
        return { startsAt: now, probe: probe! }
      }

      const startsAt = now + input.inMinutes * 60_000
      await this.deps.queue.enqueue(
        PROBE_JOBS.startOnDemand,
        { userId, maxRetries: input.retries, waitTimeInMinutes: input.waitMinutes, requestId: randomUUID() },
        { runAt: startsAt, userId },
        trx
      )
      return { startsAt, probe: null }
    })
  }
}
