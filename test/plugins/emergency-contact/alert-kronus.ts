import pino from 'pino'
import { emergencyContact } from '../../../plugins/emergency-contact/index.js'
import type { KronusPlugin, PluginContext } from '../../../src/plugins/types.js'
import { buildKronus, type TestKronus, type TestKronusOptions } from '../../helpers/app.js'
import { call, createAdmin, createContact, createUser, type TestUser } from '../../helpers/http.js'
import { RecordingChannel } from '../../helpers/recording-channel.js'

interface Tap {
  teardown(fn: () => unknown): void
}

export interface LogLine {
  level: number
  msg: string
  [key: string]: unknown
}

export const PINO_ERROR = 50

/** The emergency-contact plugin with its logger swapped for one the test can read. */
export function emergencyContactLoggingTo(lines: LogLine[]): KronusPlugin<any> {
  const plugin = emergencyContact()
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) })
  return {
    ...plugin,
    register: (kronus: PluginContext, options: unknown) => plugin.register({ ...kronus, logger }, options as never)
  }
}

export interface AlertSetup {
  kronus: TestKronus
  channel: RecordingChannel
  logs: LogLine[]
  user: TestUser
}

/** A Kronus with the emergency-contact plugin, texts recorded, and a user named Ada Lovelace. */
export async function buildAlertKronus(t: Tap, options: TestKronusOptions = {}): Promise<AlertSetup> {
  const logs: LogLine[] = []
  // One job at a time: texts go out in the order they were queued, so a test can say which one fails.
  const config = { ...options.config, jobs: { concurrency: 1 }, plugins: [emergencyContactLoggingTo(logs)] }
  const kronus = await buildKronus(t, { ...options, config })
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin, { first_name: 'Ada', last_name: 'Lovelace' })
  return { kronus, channel, logs, user }
}

export async function emergencyContactOf(s: AlertSetup, first_name: string, last_name = 'Contact'): Promise<any> {
  return createContact(s.kronus, s.user, { first_name, last_name, is_emergency_contact: true })
}

export async function turnProbesOn(s: AlertSetup): Promise<void> {
  const res = await call(s.kronus, {
    method: 'PUT',
    url: `/v1/users/${s.user.id}/probe_settings`,
    token: s.user.token,
    payload: { active: true }
  })
  if (res.statusCode !== 200) throw new Error(`probe settings: ${res.statusCode} ${res.payload}`)
}

/**
 * Starts a probe, sends its question, and answers it N: the `bad` path, without any SMS
 * plugin. The alert itself waits in the queue, so a test can make its texts fail first.
 */
export async function answerNo(s: AlertSetup): Promise<number> {
  const started = await s.kronus.probes.start(s.user.id, { origin: 'on_demand', maxRetries: 0, waitTimeInMinutes: 5 })
  if (!started.started) throw new Error(`no probe: ${started.reason}`)
  await s.kronus.queue.drain()
  const reply = await s.kronus.probes.handleReply({ userId: s.user.id, text: 'N' })
  if (reply.outcome !== 'bad') throw new Error(`unexpected outcome ${reply.outcome}`)
  return started.probe.id
}

export function textsTo(s: AlertSetup, phone: string): string[] {
  return s.channel.sent.filter((m) => m.to === phone).map((m) => m.text)
}
