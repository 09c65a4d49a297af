/** The job the probe scheduler enqueues for each fire; its handler belongs to the probe lifecycle. */
export const PROBE_FIRE_JOB = 'probe.fire'

export interface ProbeFirePayload {
  userId: number
  /** The scheduled fire time (epoch ms), which may be a little before the job runs. */
  fireAt: number
}

declare module '../queue/types.js' {
  interface KronusJobs {
    'probe.fire': ProbeFirePayload
  }
}

/** One job per user and fire time: a second scheduler or a retried tick cannot enqueue it twice. */
export function probeFireKey(userId: number, fireAt: number): string {
  return `probe.fire:${userId}:${fireAt}`
}
