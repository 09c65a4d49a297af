import { randomInt } from 'node:crypto'
import type { Knex } from 'knex'
import type { Logger } from 'pino'
import type { Clock } from '../clock.js'
import { uniqueViolationColumn } from '../db/errors.js'
import { inSavepoint } from '../db/savepoint.js'
import type { EventLog } from '../events/log.js'
import type { AlarmTrigger, RecordedEvent } from '../events/types.js'
import type { Messaging, OutgoingMessage } from '../messaging/messaging.js'
import type { JobQueue } from '../queue/job-queue.js'
import {
  alarmCallKey,
  alarmContactIdOf,
  alarmContactRef,
  alarmStepKey,
  alarmTextKey,
  alarmUserRef
} from '../queue/keys.js'
import { inTransaction } from '../services/context.js'
import { type AlarmAbout, alarmTexts } from './texts.js'

export interface AlarmStepPayload {
  alarmId: number
  tick: number
}

declare module '../queue/types.js' {
  interface KronusJobs {
    /** An alarm's escalation timer: the next contact, a reminder, calls, or the end of the steps. */
    'alarm.step': AlarmStepPayload
  }
}

export const ALARM_STEP_JOB = 'alarm.step'
/** Alarm timers, like alarm texts and calls, run ahead of every other job. */
export const ALARM_PRIORITY = 10

/** Every user has these until they choose others (PUT /v1/users/{uid}/escalation). */
export const DEFAULT_ESCALATION = { mode: 'all', step_minutes: 10, repeats: 3, voice_calls: false } as const

const MINUTE = 60_000

/** An alarm's code has two to eight digits (alarms.open_code is 8 characters wide). */
export const ALARM_CODE_MAX_DIGITS = 8
/** Random draws of a code length before the next length is tried: a length ends when about this many in a row are taken. */
const ALARM_CODE_DRAWS = 5
/** Alarms not resolved: they hold a code, keep the user's check-ins paused, and take answers. */
export const UNRESOLVED = ['open', 'acknowledged'] as const
/** A contact whose alert (or call) is out and who has not acknowledged. */
const _ALERTED = ['queued', 'sent', 'delivered', 'undelivered', 'called'] as const
/** The error recorded for a contact who texted STOP. */
const OPTED_OUT = 'opted out (texted STOP)'
/** Provider errors that mean a number can never receive texts (Twilio). */
const PERMANENT_NUMBER_ERRORS = new Set([21211, 21610, 21612, 21614, 30005, 30006])

export interface AlarmRow {
  id: number
  user_id: number
  user_name: string
  user_first_name: string
  user_phone: string
  probe_id: number | null
  trigger: AlarmTrigger
  quote: string | null
  code: string
  open_code: string | null
  status: 'open' | 'acknowledged' | 'resolved'
  mode: 'all' | 'ordered'
  step_minutes: number
  repeats: number
  voice_calls: boolean
  step: number
  repeats_sent: number
  exhausted_at: number | null
  acknowledged_by: number | null
  created_at: number
}

export interface AlarmContactRow {
  id: number
  alarm_id: number
  contact_id: number | null
  name: string
  first_name: string
  phone_number: string
  position: number
  state: 'waiting' | 'queued' | 'sent' | 'delivered' | 'undelivered' | 'acknowledged' | 'called'
  error: string | null
  texts_sent: number
  calls_placed: number
}

export interface RaiseRequest {
  userId: number
  trigger: AlarmTrigger
  /** The person's own words, quoted to the contacts. */
  quote?: string | null
  probeId?: number | null
  /**
   * The user is being answered right now (their text raised it): what Kronus says to them
   * is handed back in `userText` instead of texted.
   */
  answeringUser?: boolean
}

export interface RaiseResult {
  alarmId: number | null
  /** True when an alarm of this user was already open: this trigger joined it. */
  joined: boolean
  /** Contacts an alert or call is going to. */
  alerting: number
  /** When answeringUser: what to answer the user with, if not the usual. */
  userText: string | null
}

export interface AlarmEngineDeps {
  knex: Knex
  clock: Clock
  logger: Logger
  queue: Pick<JobQueue, 'define' | 'enqueue'>
  events: EventLog
  messaging: Pick<Messaging, 'send' | 'call' | 'onCallAnswer'>
  /** Time zone for the times in all-clear texts, when the user has none of their own. */
  defaultTimeZone: string
}

function toAlarm(row: any): AlarmRow {
  return {
    ...row,
    id: Number(row.id),
    user_id: Number(row.user_id),
    probe_id: row.probe_id == null ? null : Number(row.probe_id),
    step_minutes: Number(row.step_minutes),
    repeats: Number(row.repeats),
    voice_calls: Boolean(row.voice_calls),
    step: Number(row.step),
    repeats_sent: Number(row.repeats_sent),
    exhausted_at: row.exhausted_at == null ? null : Number(row.exhausted_at),
    acknowledged_by: row.acknowledged_by == null ? null : Number(row.acknowledged_by),
    created_at: Number(row.created_at)
  }
}

function toContact(row: any): AlarmContactRow {
  return {
    ...row,
    id: Number(row.id),
    alarm_id: Number(row.alarm_id),
    contact_id: row.contact_id == null ? null : Number(row.contact_id),
    position: Number(row.position),
    texts_sent: Number(row.texts_sent),
    calls_placed: Number(row.calls_placed)
  }
}

function about(alarm: AlarmRow): AlarmAbout {
  return {
    trigger: alarm.trigger,
    userName: alarm.user_name,
    userFirstName: alarm.user_first_name || alarm.user_name,
    userPhone: alarm.user_phone,
    quote: alarm.quote,
    code: alarm.code
  }
}

/**
 * How an alarm's events and texts are recorded: a duress alarm's are hidden from its user
 * (their GET /v1/events and their own webhooks), who may be made to open their account by
 * whoever threatens them. Administrators and configured webhooks still get them.
 */
const hiddenFromUserIf = (alarm: Pick<AlarmRow, 'trigger'>) => ({ hiddenFromUser: alarm.trigger === 'duress' })

const clipQuote = (text: string) => (text.length <= 160 ? text : `${text.slice(0, 159)}…`)

/**
 * The alarm engine: an alarm is a record with its own state machine (open → acknowledged
 * → resolved; exhausted_at once steps and repeats ran out with nobody acknowledging) and
 * its history (alarm_timeline). Every change is a conditional update, a timeline row, its
 * event and the texts, calls and timers it causes, in one transaction.
 *
 * Alerts, reminders and calls are jobs that are not tied to the user (they are not dropped
 * when the user is deleted), and the escalation timer is one `alarm.step` job at a time.
 */
export class AlarmEngine {
  constructor(private readonly deps: AlarmEngineDeps) {}

  /** The escalation timer, the receipts of alert texts and calls, and the user's own undeliverable texts. */
  register(): void {
    const { queue, events, messaging } = this.deps
    queue.define(ALARM_STEP_JOB, (payload) => this.step(payload))
    events.subscribe(
      'alarms:deliveries',
      ['message.sent', 'message.failed', 'message.delivered', 'message.undelivered', 'call.placed', 'call.failed'],
      (event) => this.#delivery(event),
      // A failed alert moves on to the next channel or contact: never behind other subscribers' backlog.
      { wants: (events, trx) => this.#alarmTexts(events, trx), priority: ALARM_PRIORITY }
    )
    events.subscribe(
      'alarms:user-unreachable',
      ['message.failed', 'message.undelivered'],
      (event) => this.#userTextFailed(event),
      {
        wants: async (events) => events.map((e) => e.payload.userId !== null && permanentFailure(e)),
        // It raises an alarm: nobody else would know the person can no longer be checked on.
        priority: ALARM_PRIORITY
      }
    )
    messaging.onCallAnswer(async (answer, trx) => {
      const id = alarmContactIdOf(answer.ref)
      if (id === null || answer.digits.trim() !== '1') return null
      const contact = await this.#contact(trx, id)
      if (!contact) return null
      const alarm = await this.#alarm(trx, contact.alarm_id)
      if (!alarm || alarm.status === 'resolved') return null
      await this.acknowledge(trx, alarm, contact, 'call')
      return alarmTexts.callAcknowledged(about(alarm))
    })
  }

  // ---------------------------------------------------------------- raising

  /**
   * Raises an alarm for the user in the caller's transaction: the user and their emergency
   * contacts are copied onto it, a code is picked, the first alerts and the first step's
   * timer are queued. A user with an alarm not yet resolved gets no second one: the
   * trigger joins the open alarm's timeline.
   */
  async raise(trx: Knex.Transaction, request: RaiseRequest): Promise<RaiseResult> {
    const { clock, logger, events } = this.deps
    const now = clock.now()
    // A duress word is never quoted (nor kept): it is the user's secret.
    const duress = request.trigger === 'duress'
    const quote = request.quote && !duress ? clipQuote(request.quote.trim()) : null
    const open = await this.openAlarmOf(request.userId, trx)
    if (open) {
      await this.#timeline(
        trx,
        open.id,
        null,
        'triggered_again',
        quote ? `${request.trigger}: "${quote}"` : request.trigger
      )
      if (duress && open.trigger !== 'duress') await this.#duressJoined(trx, open)
      // Nothing tells the user of a duress alarm, even one joined by another trigger.
      const silent = duress || open.trigger === 'duress'
      return {
        alarmId: open.id,
        joined: true,
        alerting: 0,
        userText: request.answeringUser && !silent ? alarmTexts.alarmStillOpenToUser() : null
      }
    }
    const user = await trx('users')
      .select('id', 'first_name', 'last_name', 'phone_number')
      .where({ id: request.userId })
      .first()
    if (!user) {
      logger.error({ ...request }, 'ALARM NOT RAISED: the user no longer exists')
      return { alarmId: null, joined: false, alerting: 0, userText: null }
    }
    const contacts: any[] = await trx('contacts')
      .select('id', 'first_name', 'last_name', 'phone_number', 'sms_opted_out_at')
      .where({ user_id: request.userId, is_emergency_contact: true })
      .orderBy([
        { column: 'emergency_marked_at', order: 'asc' },
        { column: 'id', order: 'asc' }
      ])
    if (request.trigger === 'unreachable' && contacts.length === 0) {
      logger.error({ userId: request.userId }, 'the user cannot be texted and has no emergency contact to tell')
      return { alarmId: null, joined: false, alerting: 0, userText: null }
    }
    const settings = await this.escalationOf(request.userId, trx)
    const userName = `${user.first_name} ${user.last_name}`.trim()
    const alarmId = await this.#insertAlarm(trx, {
      user_id: request.userId,
      user_name: userName,
      user_first_name: user.first_name,
      user_phone: user.phone_number,
      probe_id: request.probeId ?? null,
      trigger: request.trigger,
      quote,
      status: 'open',
      mode: settings.mode,
      step_minutes: settings.step_minutes,
      repeats: settings.repeats,
      voice_calls: settings.voice_calls,
      step: 0,
      repeats_sent: 0,
      created_at: now,
      updated_at: now
    })
    const seen = new Set<string>()
    const rows = contacts
      .filter((c) => !seen.has(c.phone_number) && seen.add(c.phone_number))
      .map((c, position) => ({
        alarm_id: alarmId,
        contact_id: Number(c.id),
        name: `${c.first_name} ${c.last_name}`.trim(),
        first_name: c.first_name,
        phone_number: c.phone_number,
        position,
        state: 'waiting',
        error: c.sms_opted_out_at == null ? null : OPTED_OUT,
        updated_at: now
      }))
    if (rows.length > 0) await trx('alarm_contacts').insert(rows)
    await this.#timeline(trx, alarmId, null, 'raised', quote ? `${request.trigger}: "${quote}"` : request.trigger)
    const alarm = (await this.#alarm(trx, alarmId))!
    const onAlarm = await this.contactsOf(trx, alarmId)
    await events.record(
      trx,
      'alarm.raised',
      {
        alarmId,
        userId: request.userId,
        trigger: request.trigger,
        quote,
        code: alarm.code,
        probeId: request.probeId ?? null,
        contactIds: onAlarm.flatMap((c) => (c.contact_id === null ? [] : [c.contact_id]))
      },
      hiddenFromUserIf(alarm)
    )
    logger.warn({ alarmId, userId: request.userId, trigger: request.trigger, contacts: onAlarm.length }, 'alarm raised')

    let userText: string | null = null
    if (onAlarm.length === 0) {
      await this.#timeline(trx, alarmId, null, 'nobody_reached', 'no emergency contact')
      logger.error({ alarmId, userId: request.userId }, 'ALARM NOT RELAYED: the user has no emergency contact')
      if (request.answeringUser) userText = duress ? null : alarmTexts.noContactToUser()
      else await this.#textUser(trx, alarm, 'no-contact', alarmTexts.noContactToUser())
      return { alarmId, joined: false, alerting: 0, userText }
    }
    const first = alarm.mode === 'all' ? onAlarm : onAlarm.slice(0, 1)
    for (const contact of first) await this.#alert(trx, alarm, contact)
    if (alarm.mode === 'ordered') await this.#skipUnreachable(trx, alarm)
    await this.#setTimer(trx, alarm, 1, now)
    const after = await this.contactsOf(trx, alarmId)
    const alerting = after.filter((c) => c.state !== 'waiting' && c.state !== 'undelivered').length
    if (alerting === 0 && !alarm.voice_calls) {
      await this.#nobodyReached(trx, alarm, after)
      if (request.answeringUser && !duress) userText = alarmTexts.nobodyReachedToUser(after.map((c) => c.name))
    }
    return { alarmId, joined: false, alerting, userText }
  }

  /**
   * A duress word while another alarm of the user is open: the contacts already alerted
   * are told of it too (its advice matters: not to call the user about Kronus), and the
   * ones not yet alerted will be, with the open alarm's own text.
   */
  async #duressJoined(trx: Knex.Transaction, open: AlarmRow): Promise<void> {
    const duress: AlarmAbout = { ...about(open), trigger: 'duress', quote: null }
    for (const contact of await this.contactsOf(trx, open.id)) {
      if (contact.state === 'waiting' || contact.error === OPTED_OUT) continue
      // Its texts are hidden from the user as a duress alarm's are: they tell of the word.
      await this.#textContact(trx, open, contact, 'duress', alarmTexts.alert(contact.first_name, duress), {
        hiddenFromUser: true
      })
    }
  }

  /**
   * Inserts the alarm with a short code no unresolved alarm holds. Codes are drawn at
   * random, two digits while they last, then three, and so on up to eight (the column's
   * width): each draw is checked by one indexed lookup, and a length is left for the next
   * once ALARM_CODE_DRAWS draws in a row found theirs taken, so it is left when about
   * three quarters full. Reading every open code instead made each raise cost as much as
   * the open alarms, and ran out of codes at 99,990 of them: a mass outage (everyone's
   * check-in unanswered at once) must raise every alarm. The insert is a savepoint, so a
   * code another transaction took at the same moment is a draw to make again.
   */
  async #insertAlarm(trx: Knex.Transaction, row: Record<string, unknown>): Promise<number> {
    for (let digits = 2; digits <= ALARM_CODE_MAX_DIGITS; digits++) {
      for (let draw = 0; draw < ALARM_CODE_DRAWS; draw++) {
        const code = String(randomInt(10 ** (digits - 1), 10 ** digits))
        if (await trx('alarms').where({ open_code: code }).first('id')) continue
        try {
          return await inSavepoint(trx, async (savepoint) => {
            const [inserted] = await savepoint('alarms')
              .insert({ ...row, code, open_code: code })
              .returning('id')
            return Number(typeof inserted === 'object' ? inserted.id : inserted)
          })
        } catch (err) {
          if (uniqueViolationColumn(err) !== 'open_code') throw err
        }
      }
    }
    throw new Error(`no free alarm code of up to ${ALARM_CODE_MAX_DIGITS} digits`)
  }

  /** The user's escalation settings, or the defaults. */
  async escalationOf(
    userId: number,
    trx?: Knex.Transaction
  ): Promise<{ mode: 'all' | 'ordered'; step_minutes: number; repeats: number; voice_calls: boolean }> {
    const row = await (trx ?? this.deps.knex)('escalation_settings').where({ user_id: userId }).first()
    if (!row) return { ...DEFAULT_ESCALATION }
    return {
      mode: row.mode === 'ordered' ? 'ordered' : 'all',
      step_minutes: Number(row.step_minutes),
      repeats: Number(row.repeats),
      voice_calls: Boolean(row.voice_calls)
    }
  }

  // ---------------------------------------------------------------- reading

  async openAlarmOf(userId: number, trx?: Knex.Transaction): Promise<AlarmRow | undefined> {
    const row = await (trx ?? this.deps.knex)('alarms')
      .where({ user_id: userId })
      .whereIn('status', UNRESOLVED)
      .orderBy('id', 'desc')
      .first()
    return row ? toAlarm(row) : undefined
  }

  async usersWithOpenAlarm(trx: Knex.Transaction, userIds: number[]): Promise<Set<number>> {
    const found = new Set<number>()
    for (let i = 0; i < userIds.length; i += 500) {
      const rows = await trx('alarms')
        .distinct('user_id')
        .whereIn('user_id', userIds.slice(i, i + 500))
        .whereIn('status', UNRESOLVED)
      for (const row of rows) found.add(Number(row.user_id))
    }
    return found
  }

  async contactsOf(trx: Knex.Transaction, alarmId: number): Promise<AlarmContactRow[]> {
    return (await trx('alarm_contacts').where({ alarm_id: alarmId }).orderBy('position')).map(toContact)
  }

  /**
   * The unresolved alarms this phone was alerted about (as a contact), with its part in
   * each, newest first.
   */
  async alarmsAlerting(
    trx: Knex.Transaction,
    phone: string
  ): Promise<Array<{ alarm: AlarmRow; contact: AlarmContactRow }>> {
    const rows = await trx('alarm_contacts as c')
      .join('alarms as a', 'a.id', 'c.alarm_id')
      .where('c.phone_number', phone)
      .whereNot('c.state', 'waiting')
      .whereIn('a.status', UNRESOLVED)
      .select('c.id as contact_row_id', 'a.id as alarm_row_id')
      .orderBy('a.id', 'desc')
    const out: Array<{ alarm: AlarmRow; contact: AlarmContactRow }> = []
    for (const row of rows) {
      const alarm = await this.#alarm(trx, Number(row.alarm_row_id))
      const contact = await this.#contact(trx, Number(row.contact_row_id))
      if (alarm && contact) out.push({ alarm, contact })
    }
    return out
  }

  /** The unresolved alarm holding this code, if this phone is its user's or an alerted contact's. */
  async alarmByCode(
    trx: Knex.Transaction,
    phone: string,
    code: string
  ): Promise<{ alarm: AlarmRow; contact: AlarmContactRow | null } | undefined> {
    const row = await trx('alarms').where({ open_code: code }).first()
    if (!row) return undefined
    const alarm = toAlarm(row)
    const contactRow = await trx('alarm_contacts').where({ alarm_id: alarm.id, phone_number: phone }).first()
    if (contactRow) return { alarm, contact: toContact(contactRow) }
    if (alarm.user_phone === phone) return { alarm, contact: null }
    return undefined
  }

  async #alarm(trx: Knex.Transaction, id: number): Promise<AlarmRow | undefined> {
    const row = await trx('alarms').where({ id }).first()
    return row ? toAlarm(row) : undefined
  }

  async #contact(trx: Knex.Transaction, id: number): Promise<AlarmContactRow | undefined> {
    const row = await trx('alarm_contacts').where({ id }).first()
    return row ? toContact(row) : undefined
  }

  // ---------------------------------------------------------------- escalation

  /**
   * The escalation timer. With nobody acknowledging: calls to every contact on the alarm
   * who has not acknowledged (voice calls on), then the next contact (ordered mode), or a
   * reminder to everyone on it (up to `repeats`), or, when both ran out, the end: the
   * user and every contact are told nobody has confirmed, and the alarm stays open. A
   * timer for an alarm that moved on does nothing.
   */
  async step({ alarmId, tick }: AlarmStepPayload): Promise<void> {
    await inTransaction(this.deps.knex, undefined, async (trx) => {
      const alarm = await this.#alarm(trx, alarmId)
      if (alarm?.status !== 'open' || alarm.exhausted_at !== null) return
      if (alarm.step + alarm.repeats_sent + 1 !== tick) return
      await this.#advance(trx, alarm, tick)
    })
  }

  async #advance(trx: Knex.Transaction, alarm: AlarmRow, tick: number): Promise<void> {
    const { events, clock } = this.deps
    const now = clock.now()
    const contacts = await this.contactsOf(trx, alarm.id)
    const onIt = contacts.filter((c) => c.state !== 'waiting' && c.state !== 'acknowledged')
    const waiting = contacts.filter((c) => c.state === 'waiting')

    if (alarm.voice_calls && onIt.length > 0) {
      for (const contact of onIt) await this.#call(trx, alarm, contact, `step:${tick}`)
      await this.#timeline(trx, alarm.id, null, 'calls', `step ${tick}: ${onIt.length} call(s)`)
      await events.record(
        trx,
        'alarm.escalated',
        { alarmId: alarm.id, userId: alarm.user_id, action: 'call', step: tick, contactIds: ids(onIt) },
        hiddenFromUserIf(alarm)
      )
    }

    let action: 'next_contact' | 'reminder' | 'exhausted'
    let changes: Record<string, unknown>
    if (alarm.mode === 'ordered' && waiting.length > 0) {
      action = 'next_contact'
      changes = { step: alarm.step + 1 }
    } else if (alarm.repeats_sent < alarm.repeats) {
      action = 'reminder'
      changes = { repeats_sent: alarm.repeats_sent + 1 }
    } else {
      action = 'exhausted'
      changes = { exhausted_at: now }
    }
    const moved = await trx('alarms')
      .where({ id: alarm.id, status: 'open', step: alarm.step, repeats_sent: alarm.repeats_sent })
      .whereNull('exhausted_at')
      .update({ ...changes, updated_at: now })
    if (moved !== 1) return
    const moved_alarm = { ...alarm, ...changes } as AlarmRow

    let touched: AlarmContactRow[]
    if (action === 'next_contact') {
      touched = [waiting[0]!]
      await this.#alert(trx, moved_alarm, waiting[0]!)
      await this.#timeline(trx, alarm.id, waiting[0]!.id, 'escalated', `step ${tick}: next contact ${waiting[0]!.name}`)
    } else if (action === 'reminder') {
      touched = onIt.filter((c) => c.error !== OPTED_OUT)
      for (const contact of touched) {
        await this.#textContact(
          trx,
          alarm,
          contact,
          `reminder:${moved_alarm.repeats_sent}`,
          alarmTexts.reminder(contact.first_name, about(alarm))
        )
      }
      await this.#timeline(trx, alarm.id, null, 'reminded', `reminder ${moved_alarm.repeats_sent} of ${alarm.repeats}`)
    } else {
      touched = contacts.filter((c) => c.state !== 'waiting' && c.error !== OPTED_OUT)
      for (const contact of touched)
        await this.#textContact(
          trx,
          alarm,
          contact,
          'exhausted',
          alarmTexts.exhaustedToContact(contact.first_name, about(alarm))
        )
      if (await this.#userReachable(trx, alarm))
        await this.#textUser(trx, alarm, 'exhausted', alarmTexts.exhaustedToUser())
      await this.#timeline(trx, alarm.id, null, 'exhausted', 'nobody acknowledged; the alarm stays open')
      this.deps.logger.error({ alarmId: alarm.id, userId: alarm.user_id }, 'alarm exhausted: nobody acknowledged')
    }
    await events.record(
      trx,
      'alarm.escalated',
      { alarmId: alarm.id, userId: alarm.user_id, action, step: tick, contactIds: ids(touched) },
      hiddenFromUserIf(alarm)
    )
    if (action === 'next_contact') await this.#skipUnreachable(trx, moved_alarm)
    if (action !== 'exhausted') await this.#setTimer(trx, moved_alarm, tick + 1, now)
  }

  /**
   * Ordered mode: while the newest contact on the alarm cannot be texted (opted out, or
   * undelivered) and no call can reach them, the next one is added at once instead of a
   * step later.
   */
  async #skipUnreachable(trx: Knex.Transaction, alarm: AlarmRow): Promise<void> {
    for (let guard = 0; guard < 100; guard++) {
      const current = (await this.#alarm(trx, alarm.id))!
      if (current.mode !== 'ordered' || current.status !== 'open' || current.voice_calls) return
      const contacts = await this.contactsOf(trx, alarm.id)
      const live = contacts.filter((c) => ['queued', 'sent', 'delivered', 'called', 'acknowledged'].includes(c.state))
      const waiting = contacts.filter((c) => c.state === 'waiting')
      if (live.length > 0 || waiting.length === 0) return
      await this.#stepNow(trx, current, `next contact at once: nobody on the alarm can be reached`)
    }
  }

  /** Moves the alarm one step now (an undelivered alert), re-arming the timer from now. */
  async #stepNow(trx: Knex.Transaction, alarm: AlarmRow, why: string): Promise<void> {
    await this.#timeline(trx, alarm.id, null, 'step_now', why)
    await this.#advance(trx, alarm, alarm.step + alarm.repeats_sent + 1)
  }

  async #setTimer(trx: Knex.Transaction, alarm: AlarmRow, tick: number, now: number): Promise<void> {
    await this.deps.queue.enqueue(
      ALARM_STEP_JOB,
      { alarmId: alarm.id, tick },
      { runAt: now + alarm.step_minutes * MINUTE, key: alarmStepKey(alarm.id, tick), priority: ALARM_PRIORITY },
      trx
    )
  }

  /** The first alert to one contact: a text, or (opted out) a call when voice calls are on. */
  async #alert(trx: Knex.Transaction, alarm: AlarmRow, contact: AlarmContactRow): Promise<void> {
    const now = this.deps.clock.now()
    if (contact.error === OPTED_OUT) {
      await trx('alarm_contacts')
        .where({ id: contact.id, state: 'waiting' })
        .update({ state: 'undelivered', alerted_at: now, updated_at: now })
      await this.#timeline(
        trx,
        alarm.id,
        contact.id,
        'undelivered',
        `${contact.name} texted STOP: no text can reach them`
      )
      if (alarm.voice_calls) await this.#call(trx, alarm, contact, 'opted-out')
      return
    }
    await trx('alarm_contacts')
      .where({ id: contact.id, state: 'waiting' })
      .update({ state: 'queued', alerted_at: now, updated_at: now })
    await this.#textContact(trx, alarm, contact, 'alert', alarmTexts.alert(contact.first_name, about(alarm)))
    await this.#timeline(trx, alarm.id, contact.id, 'alerted', contact.name)
  }

  async #textContact(
    trx: Knex.Transaction,
    alarm: AlarmRow,
    contact: AlarmContactRow,
    what: string,
    text: string,
    options: { hiddenFromUser?: boolean } = {}
  ): Promise<void> {
    await this.#send(trx, alarm, {
      to: contact.phone_number,
      text,
      key: alarmTextKey(contact.alarm_id, `contact:${contact.id}:${what}`),
      ref: alarmContactRef(contact.id),
      ...options
    })
    await trx('alarm_contacts').where({ id: contact.id }).increment('texts_sent', 1)
  }

  async #call(trx: Knex.Transaction, alarm: AlarmRow, contact: AlarmContactRow, what: string): Promise<void> {
    await this.deps.messaging.call(
      {
        to: contact.phone_number,
        say: alarmTexts.callSay(contact.first_name, about(alarm)),
        prompt: alarmTexts.callPrompt(about(alarm)),
        ref: alarmContactRef(contact.id),
        key: alarmCallKey(contact.id, what)
      },
      trx
    )
  }

  /** Every text to the user about an alarm; none at all for a duress alarm, which the user must never be seen to get. */
  async #textUser(trx: Knex.Transaction, alarm: AlarmRow, what: string, text: string): Promise<void> {
    if (alarm.trigger === 'duress') return
    await this.#send(trx, alarm, {
      to: alarm.user_phone,
      text,
      key: alarmTextKey(alarm.id, `user:${what}`),
      ref: alarmUserRef(alarm.id)
    })
  }

  /**
   * Every alarm text: emergency priority, which also keeps it when the user is deleted
   * (the alarm was raised; it goes out). It names the user, for its events and so that the
   * queue takes users' alarms in turn.
   */
  async #send(trx: Knex.Transaction, alarm: AlarmRow, message: Omit<OutgoingMessage, 'priority'>): Promise<void> {
    const hiddenFromUser = message.hiddenFromUser === true || hiddenFromUserIf(alarm).hiddenFromUser
    await this.deps.messaging.send({ ...message, userId: alarm.user_id, priority: 'emergency', hiddenFromUser }, trx)
  }

  /** The user can be texted: not raised because they cannot, and still a user. */
  async #userReachable(trx: Knex.Transaction, alarm: AlarmRow): Promise<boolean> {
    if (alarm.trigger === 'unreachable') return false
    const user = await trx('users').select('phone_number').where({ id: alarm.user_id }).first()
    return Boolean(user) && user.phone_number === alarm.user_phone
  }

  async #timeline(
    trx: Knex.Transaction,
    alarmId: number,
    alarmContactId: number | null,
    kind: string,
    detail: string | null
  ): Promise<void> {
    await trx('alarm_timeline').insert({
      alarm_id: alarmId,
      alarm_contact_id: alarmContactId,
      kind,
      detail,
      created_at: this.deps.clock.now()
    })
  }

  async #hasTimeline(trx: Knex.Transaction, alarmId: number, kind: string): Promise<boolean> {
    return Boolean(await trx('alarm_timeline').where({ alarm_id: alarmId, kind }).first())
  }

  // ---------------------------------------------------------------- answers

  /**
   * A contact says they will check on the user (OK <code>, a plain OK with one alarm, or
   * key 1 on a call). The first acknowledgement stops escalation; the user is told who is
   * coming and the other contacts who is on it. Returns the confirmation to the contact.
   */
  async acknowledge(
    trx: Knex.Transaction,
    alarm: AlarmRow,
    contact: AlarmContactRow,
    via: 'sms' | 'call'
  ): Promise<string> {
    const { clock, events } = this.deps
    const now = clock.now()
    const a = about(alarm)
    if (contact.state === 'acknowledged') return alarmTexts.alreadyAcknowledged(a)
    const marked = await trx('alarm_contacts')
      .where({ id: contact.id })
      .whereNot('state', 'acknowledged')
      .update({ state: 'acknowledged', acknowledged_at: now, updated_at: now })
    if (marked !== 1) return alarmTexts.alreadyAcknowledged(a)
    await this.#timeline(trx, alarm.id, contact.id, 'acknowledged', `${contact.name} (${via})`)
    await events.record(
      trx,
      'alarm.acknowledged',
      { alarmId: alarm.id, userId: alarm.user_id, contactId: contact.contact_id, name: contact.name, via },
      hiddenFromUserIf(alarm)
    )
    const first = await trx('alarms')
      .where({ id: alarm.id, status: 'open' })
      .update({ status: 'acknowledged', acknowledged_by: contact.id, acknowledged_at: now, updated_at: now })
    const contacts = await this.contactsOf(trx, alarm.id)
    const others = contacts.filter((c) => c.id !== contact.id && c.state !== 'waiting' && c.error !== OPTED_OUT)
    if (first === 1) {
      await this.#timeline(trx, alarm.id, contact.id, 'status', 'open → acknowledged')
      for (const other of others.filter((c) => c.state !== 'acknowledged'))
        await this.#textContact(
          trx,
          alarm,
          other,
          `acknowledged:${contact.id}`,
          alarmTexts.acknowledgedToOthers(other.first_name, contact.name, a)
        )
    }
    // The only place "help is on the way" is sent: this contact's acknowledgement just won.
    if (await this.#userReachable(trx, alarm))
      await this.#textUser(trx, alarm, `acknowledged:${contact.id}`, alarmTexts.acknowledgedToUser(contact.name))
    const alsoOnIt = others.filter((c) => c.state === 'acknowledged').map((c) => c.name)
    return alarmTexts.acknowledgedToContact(contact.first_name, a, alsoOnIt)
  }

  /**
   * The all-clear: the alarm is resolved with its reason, every contact who was alerted is
   * told who cleared it and when, and the user is told their check-ins are back on (unless
   * they turned them off). Returns what to say to the user when they cleared it, else null.
   */
  async resolve(
    trx: Knex.Transaction,
    alarm: AlarmRow,
    reason: 'user_ok' | 'contact_safe' | 'admin',
    by: string,
    note: string | null = null
  ): Promise<string | null> {
    const { clock, events } = this.deps
    const now = clock.now()
    const resolved = await trx('alarms')
      .where({ id: alarm.id })
      .whereIn('status', UNRESOLVED)
      .update({
        status: 'resolved',
        open_code: null,
        resolved_reason: reason,
        resolved_by: by.slice(0, 201),
        resolved_at: now,
        updated_at: now
      })
    if (resolved !== 1) return null
    await this.#timeline(trx, alarm.id, null, 'resolved', `${reason} by ${by}${note ? `: "${note}"` : ''}`)
    await events.record(
      trx,
      'alarm.resolved',
      { alarmId: alarm.id, userId: alarm.user_id, reason, by },
      hiddenFromUserIf(alarm)
    )
    const at = await this.#localTime(trx, alarm.user_id, now)
    const a = about(alarm)
    for (const contact of await this.contactsOf(trx, alarm.id)) {
      if (contact.state === 'waiting' || contact.error === OPTED_OUT) continue
      if (reason === 'contact_safe' && contact.name === by) continue
      await this.#textContact(
        trx,
        alarm,
        contact,
        'all-clear',
        reason === 'admin'
          ? alarmTexts.closedByAdminToContact(contact.first_name, a, by, at, note ?? '')
          : alarmTexts.allClearToContact(contact.first_name, a, by, at)
      )
    }
    const probes = await trx('probe_settings').select('active').where({ user_id: alarm.user_id }).first()
    const checkInsOn = Boolean(probes?.active)
    const toUser =
      reason === 'admin'
        ? alarmTexts.closedByAdminToUser(by, note ?? '', checkInsOn)
        : alarmTexts.allClearToUser(reason, by, checkInsOn)
    if (reason === 'user_ok') return alarm.trigger === 'duress' ? null : toUser
    if (await this.#userReachable(trx, alarm)) await this.#textUser(trx, alarm, 'all-clear', toUser)
    return null
  }

  /**
   * An administrator closes an alarm through the API (a false alarm they made sure of some
   * other way, say), with a note in their words that the contacts and the user are sent.
   * Unlike an all-clear it claims nothing about the person: the texts say who closed it
   * and why. Returns false when there is no such alarm or it is already resolved.
   */
  async resolveByAdmin(trx: Knex.Transaction, alarmId: number, by: string, note: string): Promise<boolean> {
    const alarm = await this.#alarm(trx, alarmId)
    if (!alarm || alarm.status === 'resolved') return false
    await this.resolve(trx, alarm, 'admin', by, note)
    const after = await this.#alarm(trx, alarmId)
    return after?.status === 'resolved'
  }

  /** "14:05 on 4 Dec", in the user's time zone. */
  async #localTime(trx: Knex.Transaction, userId: number, at: number): Promise<string> {
    const row = await trx('probe_settings').select('time_zone').where({ user_id: userId }).first()
    const timeZone = row?.time_zone || this.deps.defaultTimeZone
    try {
      return new Intl.DateTimeFormat('en-GB', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        day: 'numeric',
        month: 'short',
        hour12: false
      })
        .format(new Date(at))
        .replace(/^(\d+ \w+),? (\d\d:\d\d)$/, '$2 on $1')
    } catch {
      return new Date(at).toISOString()
    }
  }

  // ---------------------------------------------------------------- people who cannot be texted

  /**
   * The user's own number cannot receive texts (a permanent failure, or STOP): the
   * contacts are told at once that Kronus cannot check on them. Once: an alarm of the user
   * still unresolved only gets a timeline row.
   */
  async userUnreachable(trx: Knex.Transaction, userId: number, why: string): Promise<RaiseResult> {
    return this.raise(trx, { userId, trigger: 'unreachable', quote: why })
  }

  /**
   * A phone texted STOP: as a contact it can get no alert. Every contact row with that
   * number is marked, each user is told, and its part in unresolved alarms is undelivered
   * (which moves those alarms on at once). Returns how many contact rows have that number.
   */
  async phoneOptedOut(trx: Knex.Transaction, phone: string): Promise<number> {
    const now = this.deps.clock.now()
    const [{ n }] = (await trx('contacts').where({ phone_number: phone }).count({ n: '*' })) as Array<{
      n: number | string
    }>
    const contacts: any[] = await trx('contacts')
      .select('id', 'user_id', 'first_name', 'last_name', 'is_emergency_contact', 'consent_state')
      .where({ phone_number: phone })
      .whereNull('sms_opted_out_at')
    if (contacts.length > 0)
      await trx('contacts')
        .whereIn(
          'id',
          contacts.map((c) => c.id)
        )
        .update({ sms_opted_out_at: now })
    for (const contact of contacts) {
      // A contact who refused their invitation with this STOP: ContactConsent told the user.
      if (!contact.is_emergency_contact || contact.consent_state === 'refused') continue
      const user = await trx('users').select('id', 'phone_number').where({ id: contact.user_id }).first()
      if (!user) continue
      await this.deps.messaging.send(
        {
          to: user.phone_number,
          text: alarmTexts.contactOptedOutToUser(`${contact.first_name} ${contact.last_name}`.trim(), phone),
          userId: Number(user.id),
          key: `contact-opted-out:${contact.id}:${now}`
        },
        trx
      )
    }
    for (const { alarm, contact } of await this.alarmsAlerting(trx, phone)) {
      if (contact.state === 'acknowledged') continue
      const changed = await trx('alarm_contacts')
        .where({ id: contact.id })
        .whereNot('state', 'acknowledged')
        .update({ state: 'undelivered', error: OPTED_OUT, updated_at: now })
      if (changed !== 1) continue
      await this.#timeline(trx, alarm.id, contact.id, 'contact_opted_out', `${contact.name} texted STOP`)
      await this.#undeliverable(trx, alarm, { ...contact, state: 'undelivered', error: OPTED_OUT })
    }
    return Number(n)
  }

  /** START from a phone: it can get alerts again. Returns how many contact rows have that number. */
  async phoneOptedIn(trx: Knex.Transaction, phone: string): Promise<number> {
    await trx('contacts')
      .where({ phone_number: phone })
      .whereNotNull('sms_opted_out_at')
      .update({ sms_opted_out_at: null })
    const [{ n }] = (await trx('contacts').where({ phone_number: phone }).count({ n: '*' })) as Array<{
      n: number | string
    }>
    return Number(n)
  }

  // ---------------------------------------------------------------- receipts

  /** Which events are about alarm texts or calls: those with an alarm contact's ref, or (no ref) to a contact whose alert waits for its outcome. */
  async #alarmTexts(events: RecordedEvent[], trx: Knex.Transaction): Promise<boolean[]> {
    const unreffed = events.filter((e) => alarmContactIdOf((e.payload as any).ref) === null)
    const waiting = new Set<string>()
    const phones = [...new Set(unreffed.map((e) => (e.payload as any).to as string))]
    if (phones.length > 0) {
      const rows = await trx('alarm_contacts')
        .select('phone_number')
        .whereIn('phone_number', phones)
        .where('state', 'queued')
      for (const row of rows) waiting.add(row.phone_number)
    }
    return events.map((e) => {
      const p = e.payload as any
      if (alarmContactIdOf(p.ref) !== null) return true
      return (e.type === 'message.sent' || e.type === 'message.failed') && waiting.has(p.to)
    })
  }

  async #delivery(event: RecordedEvent): Promise<void> {
    await inTransaction(this.deps.knex, undefined, async (trx) => {
      const p = event.payload as any
      let id = alarmContactIdOf(p.ref)
      if (id === null) {
        // A text whose ref was not carried: the oldest alert to that phone still waiting for an outcome.
        const row = await trx('alarm_contacts').where({ phone_number: p.to, state: 'queued' }).orderBy('id').first()
        if (!row) return
        id = Number(row.id)
      }
      const contact = await this.#contact(trx, id)
      if (!contact) return
      const alarm = await this.#alarm(trx, contact.alarm_id)
      if (!alarm) return
      const now = this.deps.clock.now()
      const set = async (from: readonly string[], to: AlarmContactRow['state'], extra: Record<string, unknown> = {}) =>
        (await trx('alarm_contacts')
          .where({ id: contact.id })
          .whereIn('state', from)
          .update({ state: to, updated_at: now, ...extra })) === 1
      switch (event.type) {
        case 'message.sent': {
          if (await set(['queued'], 'sent', { message_id: p.messageId ?? null }))
            await this.#timeline(trx, alarm.id, contact.id, 'sent', p.messageId ?? null)
          break
        }
        case 'message.delivered': {
          if (
            await set(['queued', 'sent', 'undelivered', 'called'], 'delivered', {
              message_id: p.messageId,
              error: null
            })
          )
            await this.#timeline(trx, alarm.id, contact.id, 'delivered', p.messageId ?? null)
          break
        }
        case 'message.failed':
        case 'message.undelivered': {
          const error = `${p.errorCode ? `${p.errorCode}: ` : ''}${p.error ?? 'failed'}`
          if (
            await set(['queued', 'sent', 'delivered'], 'undelivered', {
              error_code: p.errorCode ?? null,
              error: error.slice(0, 1000)
            })
          ) {
            await this.#timeline(trx, alarm.id, contact.id, 'undelivered', error)
            await this.#undeliverable(trx, alarm, { ...contact, state: 'undelivered' })
          }
          break
        }
        case 'call.placed': {
          await trx('alarm_contacts').where({ id: contact.id }).increment('calls_placed', 1)
          await set(['queued', 'sent', 'delivered', 'undelivered'], 'called', { message_id: p.callId ?? null })
          await this.#timeline(trx, alarm.id, contact.id, 'called', p.callId ?? null)
          break
        }
        case 'call.failed': {
          await this.#timeline(trx, alarm.id, contact.id, 'call_failed', String(p.error ?? ''))
          break
        }
      }
      await this.#reportIfAllOut(trx, alarm.id)
    })
  }

  /**
   * An alert that cannot reach its contact moves that contact's step on at once: a call
   * (voice calls on), the next contact (ordered mode), and the user is told when nobody
   * on the alarm can be reached.
   */
  async #undeliverable(trx: Knex.Transaction, alarm: AlarmRow, contact: AlarmContactRow): Promise<void> {
    const current = (await this.#alarm(trx, alarm.id))!
    if (current.status !== 'open') return
    if (current.voice_calls) {
      await this.#call(trx, current, contact, `undelivered:${contact.texts_sent}`)
      return
    }
    const contacts = await this.contactsOf(trx, alarm.id)
    if (current.mode === 'ordered' && contacts.some((c) => c.state === 'waiting')) {
      if (current.exhausted_at === null) await this.#stepNow(trx, current, `${contact.name} cannot be reached`)
      else await this.#alert(trx, current, contacts.find((c) => c.state === 'waiting')!)
      return
    }
    const after = await this.contactsOf(trx, alarm.id)
    if (after.every((c) => c.state === 'undelivered')) await this.#nobodyReached(trx, current, after)
  }

  /** Nobody on the alarm can be reached: said to the user once, and logged as the error it is. */
  async #nobodyReached(trx: Knex.Transaction, alarm: AlarmRow, contacts: AlarmContactRow[]): Promise<void> {
    if (await this.#hasTimeline(trx, alarm.id, 'nobody_reached')) return
    await this.#timeline(trx, alarm.id, null, 'nobody_reached', 'no alert could be delivered')
    this.deps.logger.error({ alarmId: alarm.id, userId: alarm.user_id }, 'ALARM NOT RELAYED: no contact can be reached')
    if (await this.#userReachable(trx, alarm))
      await this.#textUser(trx, alarm, 'nobody-reached', alarmTexts.nobodyReachedToUser(contacts.map((c) => c.name)))
  }

  /**
   * Once every alert out has an outcome (sent, delivered, undelivered...), the user hears
   * whom Kronus reached (a receipt) and to whom it only sent the alert. Once per alarm,
   * and only while nobody has acknowledged (then they hear who is coming instead).
   */
  async #reportIfAllOut(trx: Knex.Transaction, alarmId: number): Promise<void> {
    const alarm = await this.#alarm(trx, alarmId)
    if (alarm?.status !== 'open') return
    const contacts = (await this.contactsOf(trx, alarmId)).filter((c) => c.state !== 'waiting')
    if (contacts.length === 0 || contacts.some((c) => c.state === 'queued')) return
    if (await this.#hasTimeline(trx, alarmId, 'reported')) return
    if (contacts.every((c) => c.state === 'undelivered')) return // #nobodyReached says it
    const reached = contacts.filter((c) => c.state === 'delivered').map((c) => c.name)
    const sentTo = contacts.filter((c) => c.state === 'sent' || c.state === 'called').map((c) => c.name)
    const failed = contacts.filter((c) => c.state === 'undelivered').map((c) => c.name)
    await this.#timeline(trx, alarmId, null, 'reported', JSON.stringify({ reached, sentTo, failed }))
    if (await this.#userReachable(trx, alarm))
      await this.#textUser(trx, alarm, 'report', alarmTexts.reportToUser(reached, sentTo, failed))
  }

  /** A probe text or alarm text to a user's own number failed for good: they cannot be checked on. */
  async #userTextFailed(event: RecordedEvent<'message.failed' | 'message.undelivered'>): Promise<void> {
    const { userId, to } = event.payload
    if (userId === null) return
    await inTransaction(this.deps.knex, undefined, async (trx) => {
      const user = await trx('users').select('phone_number').where({ id: userId }).first()
      if (!user || user.phone_number !== to) return
      const p = event.payload as any
      const why = `their number cannot receive texts${p.errorCode ? `, error ${p.errorCode}` : ''}`
      await this.userUnreachable(trx, userId, why)
    })
  }
}

function ids(contacts: AlarmContactRow[]): number[] {
  return contacts.flatMap((c) => (c.contact_id === null ? [] : [c.contact_id]))
}

/** A failure that means the number itself can never get a text. */
function permanentFailure(event: RecordedEvent<'message.failed' | 'message.undelivered'>): boolean {
  const p = event.payload as any
  if (event.type === 'message.failed') return p.permanent === true
  return typeof p.errorCode === 'number' && PERMANENT_NUMBER_ERRORS.has(p.errorCode)
}
