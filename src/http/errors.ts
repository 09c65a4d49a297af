import Boom from '@hapi/boom'
import type { Request, ResponseToolkit, Server } from '@hapi/hapi'
import {
  ConflictError,
  ForbiddenError,
  KronusError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError
} from '../domain/errors.js'
import { failure } from './envelope.js'

function toBoom(err: KronusError): Boom.Boom {
  if (err instanceof ValidationError) return Boom.badRequest(err.message)
  if (err instanceof NotFoundError) return Boom.notFound(err.message)
  if (err instanceof ForbiddenError) return Boom.forbidden(err.message)
  if (err instanceof UnauthorizedError) return Boom.unauthorized(err.message)
  if (err instanceof ConflictError) return Boom.conflict(err.message)
  if (err instanceof RateLimitedError) {
    const boom = Boom.tooManyRequests(err.message)
    boom.output.headers['Retry-After'] = String(err.retryAfterSec)
    return boom
  }
  return Boom.badImplementation(err.message)
}

/**
 * The one place where errors become HTTP: domain errors get their status code, every
 * error gets the envelope, and a 500 never shows its internals.
 */
export function registerErrorMapping(server: Server): void {
  server.ext('onPreResponse', (request: Request, h: ResponseToolkit) => {
    const response = request.response
    if (!Boom.isBoom(response)) return h.continue
    const boom = response instanceof KronusError ? toBoom(response) : response
    const { statusCode, headers } = boom.output
    if (statusCode >= 500) {
      request.log(['error'], response)
      request.logger?.error({ err: response }, 'request failed')
    }
    // Unexpected errors are 500s and may carry internals; other 5xx (a 503 from /health)
    // are raised on purpose with a message meant for the caller.
    const message =
      statusCode === 500 ? 'internal server error' : boom.output.payload.message || boom.output.payload.error
    const reply = h.response(failure([message])).code(statusCode)
    for (const [name, value] of Object.entries(headers)) reply.header(name, String(value))
    return reply
  })
}
