import Joi from 'joi'
import { JOB_STATUSES, type JobStatus } from '../../../services/jobs.js'
import { ADMIN_AUTH } from '../../access.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { statusQuery } from '../../schemas.js'
import { defineRoute } from '../../types.js'

const stamp = Joi.string().isoDate().allow(null)

const jobSchema = Joi.object({
  id: Joi.number().integer(),
  name: Joi.string(),
  status: Joi.string().valid(...JOB_STATUSES),
  payload: Joi.any(),
  key: Joi.string().allow(null),
  user_id: Joi.number().integer().allow(null),
  attempts: Joi.number().integer(),
  max_attempts: Joi.number().integer(),
  last_error: Joi.string().allow(null),
  run_at: stamp,
  finished_at: stamp,
  created_at: stamp,
  updated_at: stamp
}).label('Job')

export default defineRoute({
  method: 'GET',
  path: '/v1/jobs',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'jobs'],
    description: 'Jobs of the queue, newest first, optionally of one status (admin only)',
    validate: { query: pageQuery.keys({ status: statusQuery(JOB_STATUSES) }) },
    response: { schema: pagedSchema(jobSchema, 'JobList') },
    handler: async (request) => {
      const { status, page } = request.query as { status?: JobStatus; page: number }
      return paged(await request.server.app.services.jobs.list(status, page))
    }
  }
})
