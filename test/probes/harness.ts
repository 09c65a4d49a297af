import type { Knex } from 'knex'
import { PROBE_STATUS_ID, type ProbeStatusName } from '../../src/domain/constants.js'
import type { EventLog } from '../../src/events/log.js'
import type { Messaging } from '../../src/messaging/messaging.js'
import type { ProbeLifecycle } from '../../src/probes/lifecycle.js'
import { buildKronus, type TestKronus, type TestKronusOptions } from '../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../helpers/http.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

interface Tap {
  teardown(fn: () => unknown): void
}

export interface ProbeHarness {
  kronus: TestKronus
  probes: ProbeLifecycle
  events: EventLog
  messaging: Messaging
  channel: RecordingChannel
}

/** A test Kronus whose texts are recorded instead of sent. */
export async function buildProbeKronus(t: Tap, options: TestKronusOptions = {}): Promise<ProbeHarness> {
  // Probe runs span days of the fake clock; token lifetimes have their own tests (test/http/auth.test.ts).
  const auth = { accessTokenTtlMinutes: 30 * 24 * 60, ...options.config?.auth }
  const kronus = await buildKronus(t, { ...options, config: { ...options.config, auth } })
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  return { kronus, probes: kronus.probes, events: kronus.events, messaging: kronus.messaging, channel }
}

/** A user with an emergency contact, ready to be probed, and the admin who made them. */
export async function probedUser(h: ProbeHarness): Promise<{ admin: TestUser; user: TestUser }> {
  const admin = await createAdmin(h.kronus)
  const user = await anotherProbedUser(h, admin)
  return { admin, user }
}

export async function anotherProbedUser(h: ProbeHarness, admin: TestUser): Promise<TestUser> {
  const user = await createUser(h.kronus, admin)
  await createContact(h.kronus, user, { is_emergency_contact: true })
  return user
}

export async function turnProbesOn(
  h: ProbeHarness,
  user: TestUser,
  settings: Record<string, unknown> = {}
): Promise<void> {
  const res = await call(h.kronus, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: true, ...settings }
  })
  if (res.statusCode !== 200) throw new Error(`turning probes on: ${res.statusCode} ${res.payload}`)
}

const STATUS_NAMES = Object.fromEntries(Object.entries(PROBE_STATUS_ID).map(([name, id]) => [id, name])) as Record<
  number,
  ProbeStatusName
>

export interface ProbeRow {
  id: number
  status: ProbeStatusName
  retry_count: number
  last_response: string
  pending_user_id: number | null
  origin: string
}

export async function probesOf(knex: Knex, userId: number): Promise<ProbeRow[]> {
  const rows = await knex('probes').where({ user_id: userId }).orderBy('id')
  return rows.map((r: any) => ({
    id: Number(r.id),
    status: STATUS_NAMES[Number(r.probe_status_id)]!,
    retry_count: Number(r.retry_count),
    last_response: r.last_response,
    pending_user_id: r.pending_user_id === null ? null : Number(r.pending_user_id),
    origin: r.origin
  }))
}

export interface Flip {
  probe_id: number
  from_status: string | null
  to_status: string
  reason: string
  created_at: number
}

export async function flipsOf(knex: Knex, probeId: number): Promise<Flip[]> {
  const rows = await knex('probe_status_changes').where({ probe_id: probeId }).orderBy('id')
  return rows.map((r: any) => ({
    probe_id: Number(r.probe_id),
    from_status: r.from_status,
    to_status: r.to_status,
    reason: r.reason,
    created_at: Number(r.created_at)
  }))
}

const LIFECYCLE_EVENTS = new Set([
  'probe.started',
  'probe.follow_up_sent',
  'probe.reply_received',
  'probe.status_changed',
  'user.aliveness_changed',
  'emergency.triggered'
])

/** Types of the user's logged probe-lifecycle events, oldest first (messages and the like left out). */
export async function eventTypesOf(h: ProbeHarness, userId: number): Promise<string[]> {
  return (await h.events.list({ userId, limit: 1000 })).map((e) => e.type).filter((type) => LIFECYCLE_EVENTS.has(type))
}

/** Payloads of the user's logged events of one type, oldest first. */
export async function eventsOf(h: ProbeHarness, userId: number, type: string): Promise<any[]> {
  return (await h.events.list({ userId, limit: 1000 })).filter((e) => e.type === type).map((e) => e.payload)
}

/** Texts sent to a phone number so far (drain the queue first). */
/**
 * The probe's texts to this phone (its ask and follow-ups). The alarm a bad or unavailable
 * probe raises texts too (test/alarms covers those): they are left out here.
 */
export function textsTo(h: ProbeHarness, phone: string): string[] {
  return h.channel.sent.filter((m) => m.to === phone && !isAlarmText(m.text)).map((m) => m.text)
}

const ALARM_TEXT = /emergency contact|all clear|Kronus (reached|could not)|Your alert was sent|Help is on the way/

function isAlarmText(text: string): boolean {
  return ALARM_TEXT.test(text)
}

/** What the scheduler does at a cron fire: a probe.fire job for now, run at once. */
export async function fireProbe(h: ProbeHarness, userId: number, fireAt = h.kronus.clock.now()): Promise<void> {
  await h.kronus.queue.enqueue('probe.fire', { userId, fireAt }, { key: `probe.fire:${userId}:${fireAt}`, userId })
  await h.kronus.queue.drain()
}

/** Moves the fake clock and runs every job that is then due. */
export async function advance(h: ProbeHarness, minutes: number): Promise<void> {
  h.kronus.clock.advanceMinutes(minutes)
  await h.kronus.queue.drain()
}
