import type { Knex } from 'knex'
import type { AlarmTrigger, EventName, KronusEvents, NewEvent } from '../events/types.js'
import type {
  BatchDefinitionOptions,
  BatchHandler,
  EnqueueOptions,
  JobDefinitionOptions,
  JobHandler,
  JobName,
  KronusJobs
} from '../queue/types.js'

/*
 * The parts of the queue, event log and messaging that the probe lifecycle uses. Each
 * write takes the caller's transaction, so a status change, its events, its texts and
 * its next timer commit together or not at all.
 */

export interface ProbeJobQueue {
  define<N extends JobName>(name: N, handler: JobHandler<KronusJobs[N]>, options?: JobDefinitionOptions): void
  defineBatch<N extends JobName>(name: N, handler: BatchHandler<KronusJobs[N]>, options: BatchDefinitionOptions): void
  enqueue<N extends JobName>(
    name: N,
    payload: KronusJobs[N],
    options?: EnqueueOptions,
    trx?: Knex.Transaction
  ): Promise<unknown>
  enqueueMany<N extends JobName>(
    name: N,
    jobs: Array<{ payload: KronusJobs[N]; options?: EnqueueOptions }>,
    trx?: Knex.Transaction
  ): Promise<number>
}

export interface ProbeEventLog {
  record<N extends EventName>(trx: Knex.Transaction, type: N, payload: KronusEvents[N]): Promise<unknown>
  recordMany<N extends EventName>(trx: Knex.Transaction, type: N, payloads: Array<KronusEvents[N]>): Promise<unknown>
  recordEach(trx: Knex.Transaction, events: readonly NewEvent[]): Promise<unknown>
}

export interface ProbeOutgoingText {
  to: string
  text: string
  userId?: number | null
  /** Sending the same key twice sends one text. */
  key?: string
  /** What the text is for, carried on its events (e.g. `probe:12`). */
  ref?: string
}

export interface ProbeMessenger {
  send(message: ProbeOutgoingText, trx?: Knex.Transaction): Promise<unknown>
  sendMany(messages: ProbeOutgoingText[], trx?: Knex.Transaction): Promise<unknown>
}

/** What the probe lifecycle needs of the alarm engine. */
export interface AlarmRaiser {
  /** Raises an alarm (or joins the user's open one) in the caller's transaction. */
  raise(
    trx: Knex.Transaction,
    request: {
      userId: number
      trigger: AlarmTrigger
      quote?: string | null
      probeId?: number | null
      /** The user is being answered now: what to say to them comes back as userText. */
      answeringUser?: boolean
    }
  ): Promise<{ alarmId: number | null; userText: string | null }>
  /** Of these users, those with an alarm not yet resolved: their check-ins wait until it is. */
  usersWithOpenAlarm(trx: Knex.Transaction, userIds: number[]): Promise<Set<number>>
}
