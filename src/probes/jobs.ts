import { PROBE_FIRE_JOB } from '../scheduling/probe-fire-job.js'

/** Jobs of the probe lifecycle, with their payloads (probe.fire is declared by the scheduler). */
declare module '../queue/types.js' {
  interface KronusJobs {
    /**
     * The one timer of a pending probe: `retry` follow-ups had been sent when it was set.
     * It sends the next follow-up, or ends the probe as unavailable after the last one.
     */
    'probe.follow_up': { probeId: number; retry: number }
    /** An on-demand probe asked for in the future. */
    'probe.start_on_demand': { userId: number; maxRetries: number; waitTimeInMinutes: number; requestId: string }
  }
}

export const PROBE_JOBS = {
  fire: PROBE_FIRE_JOB,
  followUp: 'probe.follow_up',
  startOnDemand: 'probe.start_on_demand'
} as const
