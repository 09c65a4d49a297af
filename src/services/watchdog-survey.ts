import type { Knex } from 'knex'
import { troubledChannels } from '../messaging/channel-health.js'
import { oldestDueOf } from '../queue/oldest-due.js'
import { troubledPlugins } from './plugin-health.js'

/** Which of the watchdog's sources have anything to say: only those are then read in full. */
export interface TroubleSurvey {
  /** A channel's sends fail, or its account is refused. */
  channels: boolean
  /** A job of `names` has waited at least `waitedMs` to run. */
  queue: boolean
  /** One of `plugins` says it is degraded. */
  plugins: boolean
  /** `degraded_conditions` holds a row: a condition seen or announced, whose end may be due. */
  seen: boolean
}

export interface SurveyRequest {
  names: readonly string[]
  plugins: readonly string[]
  now: number
  waitedMs: number
}

/**
 * The watchdog's minute in one statement: four EXISTS, each stopping at its first row (the
 * queue's two along the (status, run_at) index). When all is well, it is the only read; a
 * source that has something to say is then read in full by its own query.
 */
export async function surveyTrouble(knex: Knex, request: SurveyRequest): Promise<TroubleSurvey> {
  const { names, plugins, now, waitedMs } = request
  const some = (query: Knex.QueryBuilder) => query.select(knex.raw('1')).limit(1)
  const none = knex.raw('0')
  const row: Record<keyof TroubleSurvey, unknown> = await knex.first({
    channels: knex.raw('EXISTS ?', [some(troubledChannels(knex))]),
    queue:
      names.length === 0
        ? none
        : knex.raw('(EXISTS ? OR EXISTS ?)', [
            some(oldestDueOf(knex, 'enqueued', names, now, waitedMs)),
            some(oldestDueOf(knex, 'scheduled', names, now, waitedMs))
          ]),
    plugins: plugins.length === 0 ? none : knex.raw('EXISTS ?', [some(troubledPlugins(knex, plugins))]),
    seen: knex.raw('EXISTS ?', [some(knex('degraded_conditions'))])
  })
  // PostgreSQL answers booleans, SQLite 0 and 1.
  const yes = (value: unknown) => Boolean(Number(value))
  return { channels: yes(row.channels), queue: yes(row.queue), plugins: yes(row.plugins), seen: yes(row.seen) }
}
