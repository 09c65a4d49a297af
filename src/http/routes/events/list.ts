import Joi from 'joi'
import type { RecordedEvent } from '../../../events/types.js'
import { ForbiddenError, ValidationError } from '../../../domain/errors.js'
import { PAGE_SIZE } from '../../../domain/constants.js'
import { toRfc3339 } from '../../../util/time.js'
import { defineRoute } from '../../types.js'
import { pagedSchema } from '../../envelope.js'
import { actorOf } from '../../access.js'
import { id } from '../../schemas.js'

const eventSchema = Joi.object({
  id: Joi.number().integer(),
  type: Joi.string(),
  user_id: Joi.number().integer().allow(null),
  payload: Joi.object().unknown(true),
  created_at: Joi.string().isoDate()
}).label('Event')

function present(event: RecordedEvent) {
  return { id: event.id, type: event.type, user_id: event.userId, payload: event.payload, created_at: toRfc3339(event.createdAt) }
}

export default defineRoute({
  method: 'GET',
  path: '/v1/events',
  options: {
    tags: ['api', 'events'],
    description: 'The event log, oldest first: every event for an admin, only your own otherwise',
    validate: {
      query: Joi.object({
        type: Joi.string().max(120).description('Only events of this type, e.g. probe.status_changed'),
        after: Joi.number().integer().min(0).description('Only events with a larger id (a cursor for polling)'),
        user_id: id.description('Only this user\'s events (admin only; others always see only their own)'),
        page: Joi.number().integer().min(1).max(1_000_000).default(1).description('Page number, from 1'),
        limit: Joi.number().integer().min(1).max(PAGE_SIZE).default(PAGE_SIZE).description('Events per page, at most 100')
      })
    },
    response: { schema: pagedSchema(eventSchema, 'EventList') },
    handler: async (request) => {
      const actor = actorOf(request)
      const query = request.query as { type?: string; after?: number; user_id?: number; page: number; limit: number }
      const events = request.server.app.events
      if (query.type !== undefined && !events.isKnownType(query.type)) {
        throw new ValidationError(`type must be one of ${events.types().join(', ')}`)
      }
      if (!actor.isAdmin && query.user_id !== undefined && query.user_id !== actor.userId) {
        throw new ForbiddenError('you can only read your own events')
      }
      const userId = actor.isAdmin ? query.user_id : actor.userId
      const { results, total } = await events.page({ type: query.type as RecordedEvent['type'] | undefined, after: query.after, userId }, query.page, query.limit)
      return {
        success: true,
        data: results.map(present),
        paging: { total, page: query.page, pages: Math.max(1, Math.ceil(total / query.limit)) }
      }
    }
  }
})
