import type { Logger } from 'pino'
import type { Messaging } from '../messaging/messaging.js'
import type { DeadJob } from '../queue/types.js'
import type { EventLog } from './log.js'

/**
 * The queue's dead-job hook: every dead job becomes a job.dead event, and a text that
 * could not be sent a message.failed event, so that someone hears of it.
 */
export function reportDeadJobs(
  events: EventLog,
  messaging: Messaging,
  logger: Logger
): (job: DeadJob, cause?: unknown) => Promise<void> {
  return async (job, cause) => {
    await messaging.sendJobDied(job, cause)
    // A subscriber that fails on job.dead would otherwise feed itself a new job.dead for ever.
    if (await events.isDeliveryOfJobDead(job)) {
      logger.error({ jobId: job.id, error: job.last_error }, 'delivering a job.dead event failed for good')
      return
    }
    await events.emit('job.dead', { jobId: job.id, name: job.name, attempts: job.attempts, lastError: job.last_error })
  }
}
