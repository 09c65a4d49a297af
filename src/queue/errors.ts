/** The reason a run is aborted when it exceeds its job type's timeoutMs. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError'
  constructor(readonly timeoutMs: number) {
    super(`job timed out after ${timeoutMs} ms`)
  }
}

/** The reason a run is aborted when the worker shuts down before it finished; the job goes back to the queue. */
export class WorkerStoppingError extends Error {
  override name = 'WorkerStoppingError'
  constructor() {
    super('worker stopped before the job finished')
  }
}
