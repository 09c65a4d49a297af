import type { Knex } from 'knex'
import { ConflictError, NotFoundError } from '../domain/errors.js'
import type { AlarmQueryService, AlarmView } from './alarms-read.js'
import { type Actor, inTransaction, type ServiceContext } from './context.js'

/** What closing an alarm needs of the alarm engine, which is built before the services. */
export interface AdminAlarmCloser {
  /** Resolves the alarm with reason `admin`, texting the contacts and the user; false when there was nothing to resolve. */
  resolveByAdmin(trx: Knex.Transaction, alarmId: number, by: string, note: string): Promise<boolean>
}

/**
 * An administrator closes an alarm that neither the user's OK nor a contact's SAFE will
 * end (a false alarm they made sure of some other way, a person who can no longer text).
 * The note is sent to the contacts and the user, so it must say why.
 */
export class AlarmResolutionService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: AdminAlarmCloser,
    private readonly alarms: AlarmQueryService
  ) {}

  async resolveByAdmin(alarmId: number, actor: Actor, note: string, trx?: Knex.Transaction): Promise<AlarmView> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const alarm = await trx('alarms').select('id', 'status').where({ id: alarmId }).first()
      if (!alarm) throw new NotFoundError(`alarm ${alarmId} not found`)
      if (alarm.status === 'resolved') throw new ConflictError(`alarm ${alarmId} is already resolved`)
      const admin = await trx('users').select('first_name', 'last_name').where({ id: actor.userId }).first()
      const by = admin ? `${admin.first_name} ${admin.last_name}`.trim() : `administrator ${actor.userId}`
      // A rival change (the user's OK, a contact's SAFE) that won meanwhile resolved it first.
      if (!(await this.engine.resolveByAdmin(trx, alarmId, by, note)))
        throw new ConflictError(`alarm ${alarmId} is already resolved`)
      this.ctx.logger.info({ alarmId, adminId: actor.userId }, 'alarm closed by an administrator')
      return this.alarms.find(alarmId, trx)
    })
  }
}
