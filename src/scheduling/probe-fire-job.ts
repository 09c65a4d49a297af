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
