import Joi from 'joi'
import { PAGE_SIZE } from '../../../domain/constants.js'
import type { RecordedEvent } from '../../../services/events.js'
import { toRfc3339 } from '../../../util/time.js'
import { actorOf } from '../../access.js'
import { pagedSchema } from '../../envelope.js'
import { id, text } from '../../schemas.js'
import { defineRoute } from '../../types.js'

const eventSchema = Joi.object({
  id: Joi.number().integer(),
  type: Joi.string(),
  user_id: Joi.number().integer().allow(null),
  payload: Joi.object().unknown(true),
  created_at: Joi.string().isoDate()
}).label('Event')

function present(event: RecordedEvent) {
  return {
    id: event.id,
    type: event.type,
    user_id: event.userId,
    payload: event.payload,
    created_at: toRfc3339(event.createdAt)
  }
}

export default defineRoute({
  method: 'GET',
  path: '/v1/events',
  options: {
    tags: ['api', 'events'],
    description:
      'The event log, oldest first: every event for an admin, only your own otherwise, and never those of a duress alarm (its alarm events, the texts that alert your contacts): someone may be making you look',
    validate: {
      query: Joi.object({
        type: text.max(120).description('Only events of this type, e.g. probe.status_changed'),
        after: Joi.number().integer().min(0).description('Only events with a larger id (a cursor for polling)'),
        user_id: id.description("Only this user's events (admin only; others always see only their own)"),
        page: Joi.number().integer().min(1).max(1_000_000).default(1).description('Page number, from 1'),
        limit: Joi.number()
          .integer()
          .min(1)
          .max(PAGE_SIZE)
          .default(PAGE_SIZE)
          .description('Events per page, at most 100')
      })
    },
    response: { schema: pagedSchema(eventSchema, 'EventList') },
    handler: async (request) => {
      const query = request.query as { type?: string; after?: number; user_id?: number; page: number; limit: number }
      const { services } = request.server.app
      const { results, paging } = await services.events.page(actorOf(request), {
        type: query.type,
        after: query.after,
        userId: query.user_id,
        page: query.page,
        limit: query.limit
      })
      return { success: true, data: results.map(present), paging }
    }
  }
})
