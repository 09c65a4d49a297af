import { JobTimeoutError } from './errors.js'

/**
 * Runs `fn` until it settles, `timeoutMs` passes, or `controller` is aborted from outside,
 * whichever comes first. A handler that ignores its signal and never settles is left
 * behind: the race settles anyway, so the worker loop never waits on it.
 */
export function runWithTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number, controller: AbortController): Promise<T> {
  return runBatchWithTimeout(fn, timeoutMs, 0, controller)
}

/**
 * For batch handlers, which report each job's outcome and so must be heard out: at
 * `timeoutMs` the signal is aborted (with a JobTimeoutError) and the handler is expected
 * to stop starting work and answer for what it did. Only if it has not answered
 * `graceMs` after an abort (timeout or outside) is it left behind, with the abort reason.
 */
export function runBatchWithTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number, graceMs: number, controller: AbortController): Promise<T> {
  const { signal } = controller
  let graceTimer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const abandoned = new Promise<never>((_, reject) => {
    onAbort = () => {
      if (graceMs <= 0) reject(signal.reason)
      else graceTimer = setTimeout(() => reject(signal.reason), graceMs)
    }
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  const timer = setTimeout(() => controller.abort(new JobTimeoutError(timeoutMs)), timeoutMs)
  const work = Promise.resolve().then(() => fn(signal))
  return Promise.race([work, abandoned]).finally(() => {
    clearTimeout(timer)
    clearTimeout(graceTimer)
    if (onAbort) signal.removeEventListener('abort', onAbort)
  })
}
