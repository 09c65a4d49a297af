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

/**
 * A batch handler's outcome for a job it did not get to (its time budget ran out, or the
 * run was aborted before the job began). The job goes back to the queue, its attempt given
 * back: it did not fail. It keeps its place in line, or with `behindWaiting` goes behind
 * the jobs of its priority waiting now (its lane, if it has one, still waits for it).
 */
export class JobNotRunError extends Error {
  override name = 'JobNotRunError'
  readonly behindWaiting: boolean
  constructor(why = 'the batch ended before this job was run', options: { behindWaiting?: boolean } = {}) {
    super(why)
    this.behindWaiting = options.behindWaiting === true
  }
}
