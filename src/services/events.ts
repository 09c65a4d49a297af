import { PAGE_SIZE } from '../domain/constants.js'
import { ForbiddenError, ValidationError } from '../domain/errors.js'
import { type Page, pagingOf } from '../domain/paging.js'
import type { EventName, KronusEvents, RecordedEvent } from '../events/types.js'

// What the events route presents: the log's own record type, handed on by this service.
export type { RecordedEvent }

import type { Actor, ServiceContext } from './context.js'

export interface EventQuery {
  type?: string
  /** Only events with a larger id (a polling cursor). */
  after?: number
  /** Only this user's events; only an admin may name another user. */
  userId?: number
  page: number
  /** Events per page, at most 100. */
  limit?: number
}

/** Reading the event log through the API: an admin reads everything, a user only their own events. */
export class EventQueryService {
  constructor(private readonly ctx: ServiceContext) {}

  async page(actor: Actor, query: EventQuery): Promise<Page<RecordedEvent>> {
    const { events } = this.ctx
    if (query.type !== undefined && !events.isKnownType(query.type)) {
      throw new ValidationError(`type must be one of ${events.types().join(', ')}`)
    }
    if (!actor.isAdmin && query.userId !== undefined && query.userId !== actor.userId) {
      throw new ForbiddenError('you can only read your own events')
    }
    const userId = actor.isAdmin ? query.userId : actor.userId
    const limit = query.limit ?? PAGE_SIZE
    // The event log is read outside any transaction: its rows are only ever appended.
    // A user never sees the events hidden from them (a duress alarm's); an admin sees all.
    const { results, total } = await events.page(
      { type: query.type as EventName | undefined, after: query.after, userId, visibleToUser: !actor.isAdmin },
      query.page,
      limit
    )
    return { results, paging: pagingOf(total, query.page, limit) }
  }

  /** The daily text limits reached (`limit.reached` events), oldest first, 100 a page: for an admin. */
  async limitsReached(page: number): Promise<Page<LimitReached>> {
    const { results, total } = await this.ctx.events.page({ type: 'limit.reached' }, page, PAGE_SIZE)
    return {
      results: results.map((event) => ({
        id: event.id,
        ...(event.payload as KronusEvents['limit.reached']),
        createdAt: event.createdAt
      })),
      paging: pagingOf(total, page, PAGE_SIZE)
    }
  }
}

/** A limit.reached event as the admin reads it. */
export type LimitReached = KronusEvents['limit.reached'] & { id: number; createdAt: number }
