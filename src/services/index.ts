import { type AdminAlarmCloser, AlarmResolutionService } from './alarm-resolution.js'
import { AlarmQueryService } from './alarms-read.js'
import { AuthService } from './auth.js'
import { CheckinLinkService, type LinkCheckIns } from './checkin-link.js'
import { type ConsentMessaging, ContactConsent } from './contact-consent.js'
import { ContactService } from './contacts.js'
import type { ServiceContext } from './context.js'
import { DevTextsService } from './dev-texts.js'
import { EscalationService } from './escalation.js'
import { EventQueryService } from './events.js'
import { HealthService } from './health.js'
import { JobService } from './jobs.js'
import { MetricsService } from './metrics.js'
import { type PauseKeeper, type PendingProbeCanceller, ProbeSettingsService } from './probe-settings.js'
import { type OnDemandRequester, ProbeQueryService } from './probes.js'
import { RateLimiter } from './rate-limit.js'
import { SchedulePreviewService } from './schedule-preview.js'
import { UserStatusService } from './user-status.js'
import { UserService } from './users.js'
import type { Watchdog } from './watchdog.js'

export type { Actor, ServiceContext } from './context.js'

/** What the services call in the probe engine, which is built before them. */
export interface ServiceProbeEngine {
  /** Ends a user's pending probe when their probes are turned off, or as OK when their check-in link is pressed. */
  lifecycle: PendingProbeCanceller & LinkCheckIns
  /** Starts and ends pauses (their end job, the contacts' text, the events). */
  pauses: PauseKeeper
  /** Starts probes users ask for. */
  onDemand: OnDemandRequester
  /** Closes an alarm for an administrator. */
  alarms: AdminAlarmCloser
}

export function createServices(
  ctx: ServiceContext,
  probeEngine: ServiceProbeEngine,
  messaging: ConsentMessaging,
  watchdog: Watchdog
) {
  const rateLimiter = new RateLimiter(ctx)
  const users = new UserService(ctx, rateLimiter)
  const contactConsent = new ContactConsent(ctx, messaging)
  const contacts = new ContactService(ctx, contactConsent)
  const probeSettings = new ProbeSettingsService(ctx, contacts, probeEngine.lifecycle, probeEngine.pauses)
  const probes = new ProbeQueryService(ctx, probeEngine.onDemand)
  const schedulePreview = new SchedulePreviewService(ctx, probeSettings)
  const userStatus = new UserStatusService(ctx, probeSettings)
  const devTexts = new DevTextsService(ctx)
  const auth = new AuthService(ctx, rateLimiter)
  const health = new HealthService(ctx, watchdog)
  const jobs = new JobService(ctx)
  const metrics = new MetricsService(ctx, jobs)
  const events = new EventQueryService(ctx)
  const escalation = new EscalationService(ctx)
  const alarms = new AlarmQueryService(ctx)
  const checkinLink = new CheckinLinkService(ctx, rateLimiter, probeEngine.lifecycle)
  const alarmResolution = new AlarmResolutionService(ctx, probeEngine.alarms, alarms)
  return {
    health,
    users,
    contacts,
    contactConsent,
    probeSettings,
    schedulePreview,
    userStatus,
    devTexts,
    probes,
    rateLimiter,
    auth,
    jobs,
    metrics,
    events,
    escalation,
    alarms,
    alarmResolution,
    checkinLink
  }
}

export type Services = ReturnType<typeof createServices>
