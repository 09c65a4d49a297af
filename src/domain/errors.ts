/**
 * Domain errors carry no HTTP knowledge; src/http/errors.ts maps them to status codes
 * at the edge, so services stay usable from the CLI, jobs and plugins.
 */
export class KronusError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** Input that breaks a rule the route schema cannot express. */
export class ValidationError extends KronusError {}

export class NotFoundError extends KronusError {}

/** The caller is known but may not do this. */
export class ForbiddenError extends KronusError {}

/** The caller could not be identified (bad credentials, unknown user). */
export class UnauthorizedError extends KronusError {}

/** The request collides with existing state, e.g. a duplicate email. */
export class ConflictError extends KronusError {}

/** Too many attempts; retryAfterSec tells the caller when to come back. */
export class RateLimitedError extends KronusError {
  constructor(
    message: string,
    readonly retryAfterSec: number
  ) {
    super(message)
  }
}
