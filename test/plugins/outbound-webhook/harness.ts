import { type OutboundWebhookOptions, outboundWebhook } from '../../../plugins/outbound-webhook/index.js'
import type { FakeClock } from '../../../src/clock.js'
import { buildKronus, type TestKronus } from '../../helpers/app.js'
import { call, createAdmin, createUser, login, type TestUser } from '../../helpers/http.js'

/** A Kronus with the outbound-webhook plugin, and helpers to drive webhooks through the REST API. */

interface Tap {
  teardown(fn: () => unknown): void
}

export type WebhookKronus = TestKronus

export async function buildWebhookKronus(
  t: Tap,
  options: OutboundWebhookOptions = {},
  extra: { dev?: boolean; clock?: FakeClock; documentation?: boolean } = {}
): Promise<WebhookKronus> {
  // `dev` is not part of a configuration file's input: the CLI's --dev sets it.
  const config = Object.assign({ plugins: [outboundWebhook(options)] }, extra.dev ? { dev: true } : {})
  return buildKronus(t, { clock: extra.clock, config, documentation: extra.documentation })
}

/** An admin and a second user: webhooks belong to users, and the first sign-up is the admin. */
export async function twoUsers(kronus: WebhookKronus): Promise<{ admin: TestUser; user: TestUser }> {
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  return { admin, user }
}

export async function createWebhook(
  kronus: WebhookKronus,
  owner: TestUser,
  body: Record<string, unknown>
): Promise<{ id: number; secret: string; record: any }> {
  const res = await call(kronus, {
    method: 'POST',
    url: `/v1/users/${owner.id}/webhooks`,
    token: owner.token,
    payload: body
  })
  if (res.statusCode !== 201) throw new Error(`webhook creation: expected 201, got ${res.statusCode} ${res.payload}`)
  return { id: res.body.data.id, secret: res.body.data.secret, record: res.body.data }
}

export async function deliveriesOf(kronus: WebhookKronus, owner: TestUser, webhookId: number): Promise<any[]> {
  const res = await call(kronus, { url: `/v1/users/${owner.id}/webhooks/${webhookId}/deliveries`, token: owner.token })
  if (res.statusCode !== 200) throw new Error(`deliveries: expected 200, got ${res.statusCode} ${res.payload}`)
  return res.body.data
}

export async function aliveness(
  kronus: Pick<TestKronus, 'events'>,
  userId: number,
  to: 'good' | 'bad' | 'unavailable' | 'unknown',
  probeId = 1
): Promise<void> {
  await kronus.events.emit('user.aliveness_changed', { userId, from: 'unknown', to, probeId })
}

/** A fresh token for a user: tokens last 24 hours, and these tests move the clock by days. */
export async function relogin(kronus: WebhookKronus, user: TestUser): Promise<TestUser> {
  return { ...user, token: await login(kronus, user.email, user.password) }
}

/**
 * Runs every retry as it falls due, jumping the clock from one to the next, until no job
 * waits; returns how long (fake) time that took.
 */
export async function runRetriesToTheEnd(kronus: WebhookKronus): Promise<number> {
  const started = kronus.clock.now()
  await kronus.queue.drain()
  for (;;) {
    const next = (await kronus.knex('jobs').where({ status: 'scheduled' }).min({ at: 'run_at' }).first()) as
      | { at: number | string | null }
      | undefined
    if (next?.at === null || next?.at === undefined) return kronus.clock.now() - started
    kronus.clock.set(Math.max(kronus.clock.now(), Number(next.at)))
    await kronus.queue.drain()
  }
}
