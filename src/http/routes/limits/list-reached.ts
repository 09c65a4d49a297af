import Joi from 'joi'
import type { LimitReached } from '../../../services/events.js'
import { toRfc3339 } from '../../../util/time.js'
import { ADMIN_AUTH } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { defineRoute } from '../../types.js'

const limitReachedSchema = Joi.object({
  id: Joi.number().integer().description('The limit.reached event'),
  limit: Joi.string()
    .valid('texts_per_user_per_day', 'texts_per_server_per_day')
    .description('limits.textsPerUserPerDay or limits.textsPerServerPerDay'),
  user_id: Joi.number().integer().allow(null).description("The user whose allowance is spent; null for the server's"),
  max: Joi.number().integer().description('The limit: texts in 24 hours'),
  refused: Joi.boolean().description(
    "True: a text was refused (a command's reply, an invitation); false: check-ins, which are never refused, passed the server's limit"
  ),
  created_at: Joi.string().isoDate()
}).label('LimitReached')

function present(reached: LimitReached) {
  return {
    id: reached.id,
    limit: reached.limit,
    user_id: reached.userId,
    max: reached.max,
    refused: reached.refused,
    created_at: toRfc3339(reached.createdAt)
  }
}

export default defineRoute({
  method: 'GET',
  path: '/v1/limits/reached',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'limits'],
    description:
      'The daily text limits reached, oldest first (admin only): one entry per limit and user (or the server) in 24 hours',
    plugins: errorDocs([400, 401, 403]),
    validate: { query: pageQuery },
    response: { schema: pagedSchema(limitReachedSchema, 'LimitReachedList') },
    handler: async (request) => {
      const { page } = request.query as { page: number }
      const result = await request.server.app.services.events.limitsReached(page)
      return paged({ results: result.results.map(present), paging: result.paging })
    }
  }
})
