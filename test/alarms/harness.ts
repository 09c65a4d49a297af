import { emergencyContact } from '../../plugins/emergency-contact/index.js'
import { smsCommands } from '../../plugins/sms-commands/index.js'
import { twilioSms } from '../../plugins/twilio-sms/index.js'
import type { FakeClock } from '../../src/clock.js'
import type { KronusConfigInput } from '../../src/config/types.js'
import type { KronusEvents } from '../../src/events/types.js'
import type { OutgoingCallRequest } from '../../src/messaging/channel.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../helpers/http.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

/*
 * A Kronus as a user has it (twilio-sms for its keywords, sms-commands, emergency-contact),
 * whose texts and calls go to a recording channel that notes the fake clock's time of
 * each: a scenario asserts who got which text or call, and when.
 */

export const MINUTE = 60_000
const ACCOUNT_SID = `AC${'1'.repeat(32)}`

interface Tap {
  teardown(fn: () => unknown): void
}

export interface Sent {
  to: string
  text: string
  /** Minutes since the scenario's start, on the fake clock. */
  minute: number
}

export interface Called {
  to: string
  say: string
  prompt: string
  ref: string
  minute: number
}

/** The recording channel, with the fake clock's time of each text, and calls. */
export class ScenarioChannel extends RecordingChannel {
  readonly log: Sent[] = []
  readonly calls: Called[] = []
  constructor(
    private readonly clock: FakeClock,
    private readonly start: number
  ) {
    super('scenario')
  }

  override async send(message: { to: string; text: string }): Promise<{ messageId: string }> {
    const sent = await super.send(message)
    this.log.push({ ...message, minute: Math.floor((this.clock.now() - this.start) / MINUTE) })
    return sent
  }

  async call(request: OutgoingCallRequest): Promise<{ callId: string }> {
    this.calls.push({ ...request, minute: Math.floor((this.clock.now() - this.start) / MINUTE) })
    return { callId: `CA${this.calls.length}` }
  }
}

export interface Scenario {
  kronus: TestKronus
  channel: ScenarioChannel
  admin: TestUser
  /** Ada Lovelace, whose check-ins these are. */
  user: TestUser
  start: number
}

export async function buildScenario(
  t: Tap,
  options: { dir?: string; clock?: FakeClock; start?: number; config?: KronusConfigInput; users?: false } = {}
): Promise<Scenario> {
  const kronus = await buildKronus(t, {
    dir: options.dir,
    clock: options.clock,
    config: {
      ...options.config,
      twilio: { accountSid: ACCOUNT_SID, authToken: 'token', messagingServiceSid: `MG${'a'.repeat(32)}` },
      jobs: { concurrency: 1 },
      auth: { accessTokenTtlMinutes: 30 * 24 * 60 },
      plugins: [
        twilioSms({
          client: {
            messages: {
              create: async () => {
                throw new Error('the scenario channel sends')
              }
            }
          } as never
        }),
        smsCommands(),
        emergencyContact()
      ]
    } as KronusConfigInput
  })
  const start = options.start ?? kronus.clock.now()
  const channel = new ScenarioChannel(kronus.clock, start)
  kronus.messaging.registerChannel(channel, { default: true })
  if (options.users === false) return { kronus, channel, admin: null as never, user: null as never, start }
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Ada', last_name: 'Lovelace' })
  return { kronus, channel, admin, user, start }
}

export async function emergencyContactOf(s: Scenario, first_name: string, overrides: Record<string, unknown> = {}) {
  const contact = await createContact(s.kronus, s.user, {
    first_name,
    last_name: 'Contact',
    is_emergency_contact: true,
    ...overrides
  })
  // Marking order decides escalation order: one minute apart.
  s.kronus.clock.advance(1)
  return contact
}

/** What the running server does on its own: the scheduler tick, then every job now due. */
export async function run(s: Scenario): Promise<void> {
  await s.kronus.scheduler.tick()
  await s.kronus.queue.drain()
}

/** Minutes pass, and everything due in them runs (a minute at a time, as the server would). */
export async function wait(s: Scenario, minutes: number): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    s.kronus.clock.advance(MINUTE)
    await run(s)
  }
}

/** A text to Kronus from this phone; returns the reply (TwiML's message), or null. */
export async function text(s: Scenario, from: string, body: string): Promise<string | null> {
  const { reply } = await s.kronus.messaging.receive({ from, text: body, channel: 'twilio', messageId: null })
  await run(s)
  return reply
}

export function textsTo(s: Scenario, phone: string): string[] {
  return s.channel.log.filter((m) => m.to === phone).map((m) => m.text)
}

export function timedTextsTo(s: Scenario, phone: string): Array<[number, string]> {
  return s.channel.log.filter((m) => m.to === phone).map((m) => [m.minute, m.text])
}

export async function checkIn(s: Scenario, user: TestUser = s.user, maxRetries = 2): Promise<void> {
  const started = await s.kronus.probes.start(user.id, { origin: 'on_demand', maxRetries, waitTimeInMinutes: 10 })
  if (!started.started) throw new Error(`no check-in started: ${started.reason}`)
  await run(s)
}

export async function turnCheckInsOn(s: Scenario, cron = '0 18 * * *'): Promise<void> {
  const res = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/probe_settings`,
    token: s.user.token,
    payload: { active: true, cron_expression: cron, max_retries: 1, wait_time_in_minutes: 10 }
  })
  if (res.statusCode !== 200) throw new Error(`probe settings: ${res.statusCode} ${res.payload}`)
}

export async function setEscalation(
  s: Scenario,
  settings: { mode?: 'all' | 'ordered'; step_minutes?: number; repeats?: number; voice_calls?: boolean }
): Promise<void> {
  const now = s.kronus.clock.now()
  await s.kronus.knex('escalation_settings').insert({
    user_id: s.user.id,
    mode: settings.mode ?? 'all',
    step_minutes: settings.step_minutes ?? 10,
    repeats: settings.repeats ?? 3,
    voice_calls: settings.voice_calls ?? false,
    created_at: now,
    updated_at: now
  })
}

export async function alarmsOf(s: Scenario, userId = s.user.id): Promise<any[]> {
  return s.kronus.knex('alarms').where({ user_id: userId }).orderBy('id')
}

export async function alarmContacts(s: Scenario, alarmId: number): Promise<any[]> {
  return s.kronus.knex('alarm_contacts').where({ alarm_id: alarmId }).orderBy('position')
}

export async function timeline(s: Scenario, alarmId: number): Promise<string[]> {
  return (await s.kronus.knex('alarm_timeline').where({ alarm_id: alarmId }).orderBy('id')).map((r: any) => r.kind)
}

/** A delivery receipt as H-twilio's status callback records it, with the alert's ref. */
export async function receipt<N extends 'message.delivered' | 'message.undelivered' | 'message.failed'>(
  s: Scenario,
  type: N,
  payload: KronusEvents[N]
): Promise<void> {
  await s.kronus.events.emit(type, payload)
  await run(s)
}

export async function probeSettingsActive(s: Scenario): Promise<boolean> {
  const row = await s.kronus.knex('probe_settings').where({ user_id: s.user.id }).first()
  return Boolean(row?.active)
}
