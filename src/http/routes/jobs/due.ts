import Joi from 'joi'
import { QUEUE_BEHIND_MS } from '../../../services/watchdog.js'
import { ADMIN_AUTH } from '../../access.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

const dueLaneSchema = Joi.object({
  lane: Joi.string().description("A lane's group (a user's lane without the user), or the job's name when it has none"),
  due: Joi.number().integer().min(0).description('Jobs whose time has come and that no worker has taken yet'),
  oldest_due_age_seconds: Joi.number().integer().min(0).description('How long the oldest of them has waited'),
  late: Joi.boolean().description('The oldest has waited 2 minutes or more: what the watchdog calls the queue behind')
}).label('DueLane')

export default defineRoute({
  method: 'GET',
  path: '/v1/jobs/due',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'jobs'],
    description: 'Jobs due now and not yet taken, by lane, the longest wait first (admin only): late work shows here',
    response: { schema: envelopeSchema(Joi.array().items(dueLaneSchema).label('DueLanes'), 'DueLanesResponse') },
    handler: async (request) => {
      const lanes = await request.server.app.services.jobs.dueByLane()
      return ok(
        lanes.map((lane) => ({
          lane: lane.lane,
          due: lane.due,
          oldest_due_age_seconds: Math.floor(lane.oldestDueAgeMs / 1000),
          late: lane.oldestDueAgeMs >= QUEUE_BEHIND_MS
        }))
      )
    }
  }
})
