import { AuthService } from './auth.js'
import { HealthService } from './health.js'
import { JobService } from './jobs.js'
import { ContactService } from './contacts.js'
import { ProbeSettingsService } from './probe-settings.js'
import { ProbeQueryService } from './probes.js'
import { RateLimiter } from './rate-limit.js'
import { UserService } from './users.js'
import type { ServiceContext } from './context.js'

export type { ServiceContext, Actor } from './context.js'

export function createServices(ctx: ServiceContext) {
  const users = new UserService(ctx)
  const contacts = new ContactService(ctx)
  const probeSettings = new ProbeSettingsService(ctx, contacts)
  const probes = new ProbeQueryService(ctx)
  const rateLimiter = new RateLimiter(ctx)
  const auth = new AuthService(ctx, rateLimiter)
  const health = new HealthService(ctx)
  const jobs = new JobService(ctx)
  return { health, users, contacts, probeSettings, probes, rateLimiter, auth, jobs }
}

export type Services = ReturnType<typeof createServices>
