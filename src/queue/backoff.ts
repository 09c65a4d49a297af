/**
 * Delay before retrying a job that failed its `attempts`-th try: e^min(attempts, 10)
 * seconds, i.e. about 2.7 s, 7.4 s, 20 s, ... and never more than about 6 hours.
 */
export function retryDelayMs(attempts: number): number {
  return Math.round(Math.exp(Math.min(Math.max(attempts, 1), 10)) * 1000)
}

/**
 * A job retried until a deadline (EnqueueOptions.retryForMs) waits at most this long
 * between tries: an alarm's text goes out within a minute of the provider's recovery.
 */
export const RETRY_UNTIL_MAX_DELAY_MS = 60_000

/** The delay before the next try of a job that failed its `attempts`-th try. */
export function nextRetryDelayMs(attempts: number, retryUntil: number | null): number {
  const delay = retryDelayMs(attempts)
  return retryUntil === null ? delay : Math.min(delay, RETRY_UNTIL_MAX_DELAY_MS)
}
