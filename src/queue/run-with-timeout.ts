import { JobTimeoutError } from './errors.js'

/**
 * Runs a handler until it settles, `timeoutMs` passes, or `controller` is aborted from
 * outside. At `timeoutMs` the signal is aborted (with a JobTimeoutError); a batch handler,
 * which reports each job's outcome and so must be heard out, is expected to stop starting
 * work and answer for what it did. Only if it has not answered `graceMs` after an abort
 * (timeout or outside) is it left behind, with the abort reason: a handler that ignores
 * its signal and never settles cannot hold up the worker. A single job's handler has
 * nothing to answer for and gets no grace.
 */
export function runWithTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  graceMs: number,
  controller: AbortController
): Promise<T> {
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
