/**
 * Delay before retrying a job that failed its `attempts`-th try: e^min(attempts, 10)
 * seconds, i.e. about 2.7 s, 7.4 s, 20 s, ... and never more than about 6 hours.
 */
export function retryDelayMs(attempts: number): number {
  return Math.round(Math.exp(Math.min(Math.max(attempts, 1), 10)) * 1000)
}
