import Joi from 'joi'
import { ADMIN_AUTH } from '../../access.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

const count = Joi.number().integer().min(0)

export default defineRoute({
  method: 'GET',
  path: '/v1/jobs/stats',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'jobs'],
    description:
      "How many jobs have each status (admin only); enueued_job_count repeats enqueued_job_count under the first Kronus's spelling",
    response: {
      schema: envelopeSchema(
        Joi.object({
          scheduled_job_count: count,
          enqueued_job_count: count,
          enueued_job_count: count,
          in_progress_job_count: count,
          successful_job_count: count,
          dead_job_count: count
        }).label('JobStats'),
        'JobStatsResponse'
      )
    },
    handler: async (request) => ok(await request.server.app.services.jobs.stats())
  }
})
