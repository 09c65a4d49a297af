/**
 * An example plugin: writes a log line whenever someone's aliveness changes, and once a
 * day a summary. It uses only the public plugin API, as any plugin of yours would.
 *
 * In kronus.config.ts:
 *
 *   import { alivenessLogger } from './examples/plugins/aliveness-logger.js'
 *   export default defineConfig({ plugins: [alivenessLogger({ summaryCron: '0 8 * * *' })] })
 */
import Joi from 'joi'
import { type Aliveness, definePlugin } from 'kronus'

// The plugin's own event and job, declared by merging into Kronus's maps, so that both are
// type-checked wherever they are used.
declare module 'kronus' {
  interface KronusEvents {
    'aliveness-logger.summary': { changes: number; byState: Record<Aliveness, number> }
  }
  interface KronusJobs {
    'aliveness-logger.summarise': Record<string, never>
  }
}

export interface AlivenessLoggerOptions {
  /** When to write the daily summary (5-field cron, in kronus.cron.timeZone). Default 08:00. */
  summaryCron?: string
  /** Also log changes to `good` and `unknown`, not only the alarming ones. Default true. */
  logRecoveries?: boolean
}

const ALARMING: ReadonlySet<Aliveness> = new Set(['bad', 'unavailable'])

export const alivenessLogger = definePlugin<AlivenessLoggerOptions>({
  name: 'aliveness-logger',
  version: '1.0.0',
  options: Joi.object<AlivenessLoggerOptions>({
    summaryCron: Joi.string().default('0 8 * * *'),
    logRecoveries: Joi.boolean().default(true)
  }),
  events: ['aliveness-logger.summary'],

  async register(kronus, options) {
    const counts: Record<Aliveness, number> = { good: 0, bad: 0, unavailable: 0, unknown: 0 }

    // Durable: every change reaches the log at least once, even across a crash or restart.
    kronus.events.subscribe('log-change', 'user.aliveness_changed', async ({ payload }) => {
      counts[payload.to] += 1
      const line = { userId: payload.userId, from: payload.from, to: payload.to, probeId: payload.probeId }
      if (ALARMING.has(payload.to)) kronus.logger.warn(line, `user ${payload.userId} is now ${payload.to}`)
      else if (options.logRecoveries) kronus.logger.info(line, `user ${payload.userId} is now ${payload.to}`)
    })

    kronus.jobs.define('aliveness-logger.summarise', async () => {
      const changes = Object.values(counts).reduce((sum, n) => sum + n, 0)
      await kronus.events.emit('aliveness-logger.summary', { changes, byState: { ...counts } })
      kronus.logger.info({ byState: counts }, `${changes} aliveness changes since the last summary`)
      for (const state of Object.keys(counts) as Aliveness[]) counts[state] = 0
    })
    await kronus.schedules.schedule('aliveness-logger.summarise', options.summaryCron ?? '0 8 * * *', {})

    // For a dashboard: the counts so far, to an admin only.
    kronus.server.route({
      method: 'GET',
      path: '/counts',
      options: {
        auth: { strategy: 'jwt', access: { scope: 'admin' } },
        handler: () => ({ success: true, data: counts })
      }
    })

    return {
      start: () => kronus.logger.info('aliveness logger started'),
      stop: () => kronus.logger.info('aliveness logger stopped')
    }
  }
})
