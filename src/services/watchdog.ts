import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { ROLE_ID } from '../domain/constants.js'
import type { EventLog } from '../events/log.js'
import { ChannelHealth } from '../messaging/channel-health.js'
import type { Messaging } from '../messaging/messaging.js'
import type { JobQueue } from '../queue/job-queue.js'
import { watchdogTextKey } from '../queue/keys.js'
import { oldestDueJob } from '../queue/oldest-due.js'
import { Ticker } from '../scheduling/ticker.js'
import { toRfc3339 } from '../util/time.js'
import type { PluginHealthStore } from './plugin-health.js'
import { surveyTrouble } from './watchdog-survey.js'

/** Each instance checks every minute, on the minute. */
export const WATCHDOG_INTERVAL_MS = 60_000
/**
 * A condition is announced by a check at least this long after the check that first saw
 * it: the next minute's, on one instance or several (their checks fall on the same
 * minutes, so a second instance's check a moment later does not count as the next).
 */
export const WATCHDOG_CONFIRM_MS = 45_000

/** Every send through a channel has failed for this long: texts are not getting out. */
export const SENDS_FAILING_MS = 5 * 60_000
/** A job due this long ago has not run: the queue is stuck or far behind. */
export const QUEUE_BEHIND_MS = 2 * 60_000

export const NO_CHANNEL_REASON =
  'no way to send texts: no SMS channel is set up; set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID (or the twilio section of the configuration), or add an SMS plugin'

/** Something that keeps Kronus from doing its work, as /health, the heartbeat and the admin are told. */
export interface DegradedCondition {
  /** Stable while it lasts: `no_channel`, `sends_failing:<channel>`, `account:<channel>`, `queue_behind`, `plugin:<name>`. */
  condition: string
  /** What is wrong, in words for the operator. */
  reason: string
  /** It is about sending texts: a text cannot be counted on to tell anyone. */
  aboutTexting: boolean
}

export interface WatchdogOptions {
  knex: Knex
  clock: Clock
  logger: Logger
  events: EventLog
  messaging: Pick<Messaging, 'defaultChannel' | 'channel' | 'send'>
  queue: Pick<JobQueue, 'definedNames'>
  plugins: PluginHealthStore
  /** The names of the configured plugins: only their health is read. */
  pluginNames: () => readonly string[]
}

interface AnnouncedRow {
  condition: string
  reason: string
  about_texting: boolean | number
  started_at: number | string
  announced: boolean | number
}

function minutes(ms: number): string {
  const total = Math.max(1, Math.round(ms / 60_000))
  if (total < 60) return `${total} min`
  return `${Math.floor(total / 60)} h ${total % 60} min`
}

/** The admins' text when a condition starts. */
export function degradedText(reason: string): string {
  return `Kronus needs attention: ${reason}. You will get a text when this is over.`
}

/** The admins' text when it ends. */
export function recoveredText(reason: string, durationMs: number): string {
  return `Kronus: this problem is over after ${minutes(durationMs)}: ${reason}`
}

/**
 * The watcher of the watcher. Its conditions are read from the database wherever they can
 * be (failed sends, the queue, plugins' reports), so every instance agrees; only "no
 * channel" is this process's own configuration. Every instance checks once a minute on a
 * timer of its own, not as a job, so a stuck queue cannot stop the check that reports it,
 * and an all-well minute costs one read (surveyTrouble). A check announces
 * each condition once when it starts (seen again at least WATCHDOG_CONFIRM_MS after it was
 * first seen) and once when it ends: an error in the log, a kronus.degraded or
 * kronus.recovered event (webhooks carry it), and a text to every admin when the condition
 * is not about texting itself. `degraded_conditions` holds what was seen and announced,
 * changed by conditional writes only, so of several instances checking together one
 * announces and none twice.
 */
export class Watchdog {
  readonly #options: WatchdogOptions
  readonly #channels: ChannelHealth
  readonly #ticker: Ticker

  constructor(options: WatchdogOptions) {
    this.#options = options
    this.#channels = new ChannelHealth(options.knex)
    this.#ticker = new Ticker('watchdog', WATCHDOG_INTERVAL_MS, () => this.check(), options.logger, {
      alignedTo: options.clock
    })
  }

  /** Checks now, then on every minute; a check that fails (the database unreachable) is logged and tried again soon. */
  start(): void {
    this.#ticker.start()
  }

  /** Stops checking, after a check in progress. */
  async stop(): Promise<void> {
    await this.#ticker.stop()
  }

  /** The conditions true now, in a stable order; none when all is well. */
  async conditions(): Promise<DegradedCondition[]> {
    return (await this.#look()).current
  }

  /**
   * The conditions true now, and whether any is on record (`degraded_conditions`). One
   * survey statement says which sources have something to say; only those are read in full,
   * so an all-well minute is that one read.
   */
  async #look(): Promise<{ current: DegradedCondition[]; seen: boolean }> {
    const { messaging, queue, plugins, clock, knex } = this.#options
    const now = clock.now()
    const pluginNames = this.#options.pluginNames()
    const names = queue.definedNames()
    const survey = await surveyTrouble(knex, {
      names,
      plugins: pluginNames,
      now,
      waitedMs: QUEUE_BEHIND_MS
    })
    const found: DegradedCondition[] = []
    if (!messaging.defaultChannel)
      found.push({ condition: 'no_channel', reason: NO_CHANNEL_REASON, aboutTexting: true })
    for (const row of survey.channels ? await this.#channels.troubled() : []) {
      // A channel this process does not have (renamed, removed) says nothing about now.
      if (!messaging.channel(row.channel)) continue
      if (row.accountError !== null) {
        found.push({
          condition: `account:${row.channel}`,
          reason: `${row.channel} refuses Kronus's account, so no text can go out: ${row.accountError}`,
          aboutTexting: true
        })
      }
      if (row.failingSince !== null && now - row.failingSince >= SENDS_FAILING_MS) {
        found.push({
          condition: `sends_failing:${row.channel}`,
          reason: `every text through ${row.channel} has failed since ${toRfc3339(row.failingSince)}; the last error: ${row.lastError ?? 'unknown'}`,
          aboutTexting: true
        })
      }
    }
    const stuck = survey.queue ? await oldestDueJob(knex, names, now, QUEUE_BEHIND_MS) : null
    if (stuck) {
      found.push({
        condition: 'queue_behind',
        reason: `the job queue is stuck or behind: job ${stuck.id} (${stuck.name}) has waited ${minutes(now - stuck.runAt)} to run`,
        aboutTexting: false
      })
    }
    for (const trouble of survey.plugins ? await plugins.troubled(pluginNames) : []) {
      found.push({
        condition: `plugin:${trouble.plugin}`,
        reason: `${trouble.plugin}: ${trouble.reason}`,
        aboutTexting: false
      })
    }
    return { current: found, seen: survey.seen }
  }

  /** Outside dev mode (where the console channel always is), a server that cannot text says so loudly at start. */
  warnIfNoChannel(): void {
    if (!this.#options.messaging.defaultChannel) {
      this.#options.logger.warn(
        `Kronus cannot send a single text: ${NO_CHANNEL_REASON}; /health says degraded until then`
      )
    }
  }

  /**
   * Announces the conditions that started and ended since the last check. A condition is
   * announced by a check at least WATCHDOG_CONFIRM_MS after the one that first saw it (the
   * next minute's), so a blip (the backlog of a restart after down time, run in the minute
   * after) alerts nobody; its end is announced at the first check that no longer sees it,
   * and only if its start was.
   */
  async check(): Promise<void> {
    const { knex, clock, logger, events } = this.#options
    const { current, seen } = await this.#look()
    const now = clock.now()
    // All well and nothing on record, the usual minute: the survey was the only read.
    if (current.length === 0 && !seen) return
    const started: Array<{ condition: string; reason: string }> = []
    const ended: AnnouncedRow[] = []
    await knex.transaction(async (trx) => {
      const seen: AnnouncedRow[] = await trx('degraded_conditions').select('*')
      const known = new Map(seen.map((row) => [row.condition, row]))
      const live = new Set(current.map((c) => c.condition))
      for (const condition of current) {
        const row = known.get(condition.condition)
        if (!row) {
          await trx('degraded_conditions')
            .insert({
              condition: condition.condition,
              reason: condition.reason,
              about_texting: condition.aboutTexting,
              started_at: now,
              announced: false
            })
            .onConflict('condition')
            .ignore()
          continue
        }
        const since = Number(row.started_at)
        if (row.announced || now - since < WATCHDOG_CONFIRM_MS) continue
        // Conditional: of two checks that got here together, one announces.
        const claimed = await trx('degraded_conditions')
          .where({ condition: condition.condition, started_at: since, announced: false })
          .update({ announced: true, reason: condition.reason })
        if (claimed === 0) continue
        started.push(condition)
        await events.record(trx, 'kronus.degraded', { condition: condition.condition, reason: condition.reason, since })
        if (!condition.aboutTexting)
          await this.#textAdmins(trx, condition.condition, since, 'degraded', degradedText(condition.reason))
      }
      for (const row of seen) {
        if (live.has(row.condition)) continue
        const since = Number(row.started_at)
        const deleted = await trx('degraded_conditions').where({ condition: row.condition, started_at: since }).delete()
        if (deleted === 0 || !row.announced) continue
        ended.push(row)
        await events.record(trx, 'kronus.recovered', {
          condition: row.condition,
          reason: row.reason,
          since,
          durationMs: now - since
        })
        if (!row.about_texting)
          await this.#textAdmins(trx, row.condition, since, 'recovered', recoveredText(row.reason, now - since))
      }
    })
    for (const condition of started)
      logger.error({ condition: condition.condition }, `Kronus is degraded: ${condition.reason}`)
    for (const row of ended) {
      logger.info(
        { condition: row.condition, durationMs: now - Number(row.started_at) },
        `Kronus recovered after ${minutes(now - Number(row.started_at))}: ${row.reason}`
      )
    }
  }

  /** One text to each admin who has not opted out of texts, in the announcement's transaction. */
  async #textAdmins(
    trx: Knex.Transaction,
    condition: string,
    startedAt: number,
    what: 'degraded' | 'recovered',
    text: string
  ): Promise<void> {
    const admins: Array<{ id: number | string; phone_number: string }> = await trx('users')
      .select('id', 'phone_number')
      .where({ role_id: ROLE_ID.admin })
      .whereNull('sms_opted_out_at')
      .orderBy('id')
    for (const admin of admins) {
      const userId = Number(admin.id)
      await this.#options.messaging.send(
        { to: admin.phone_number, text, userId, key: watchdogTextKey(condition, startedAt, what, userId) },
        trx
      )
    }
  }
}
