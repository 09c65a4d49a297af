import t from 'tap'
import { MessageDeliveryError, type OutgoingText } from '../../src/messaging/channel.js'
import { sendingOrder } from '../../src/messaging/messaging.js'
import { RETRY_UNTIL_MAX_DELAY_MS } from '../../src/queue/backoff.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

/** Keeps every text handed to it, with its priority, in the order it was handed over. */
class OrderChannel extends RecordingChannel {
  readonly handed: OutgoingText[] = []
  override async send(message: OutgoingText): Promise<{ messageId: string }> {
    this.handed.push(message)
    return super.send(message)
  }
}

async function withChannel(t: Parameters<typeof buildKronus>[0], config = {}) {
  const kronus = await buildKronus(t, { config })
  const channel = new OrderChannel()
  kronus.messaging.registerChannel(channel)
  return { kronus, channel }
}

t.test("an alarm's text queued after 1,000 texts of another user is sent first", async (t) => {
  const { kronus, channel } = await withChannel(t)
  await kronus.messaging.sendMany(
    Array.from({ length: 1000 }, (_, n) => ({
      to: `+1555100${String(n).padStart(4, '0')}`,
      text: 'check-in',
      userId: 1
    }))
  )
  await kronus.messaging.send({ to: '+15559990000', text: 'ALERT: Bob needs help', userId: 2, priority: 'emergency' })
  await kronus.queue.drain()
  t.equal(channel.handed.length, 1001, 'every text went out')
  t.same(channel.handed[0], { to: '+15559990000', text: 'ALERT: Bob needs help', priority: 'emergency' })
  t.notOk(
    channel.handed.slice(1).some((m) => m.priority !== undefined),
    'other texts go to the channel without a priority'
  )
  const job = await kronus.knex('jobs').where({ name: 'message.send', user_id: 2 }).first()
  t.equal(Number(job.priority), 10, 'an emergency text is a priority-10 job')
})

t.test("a batch sends alarms' texts first, then users' texts in turn", async (t) => {
  const { kronus, channel } = await withChannel(t)
  // One user's 60 texts, then another's 3, then an alarm: all in one batch of 100.
  await kronus.messaging.sendMany(
    Array.from({ length: 60 }, (_, n) => ({ to: `+1555200${String(n).padStart(4, '0')}`, text: `a${n}`, userId: 1 }))
  )
  await kronus.messaging.sendMany(
    Array.from({ length: 3 }, (_, n) => ({ to: `+1555300${String(n).padStart(4, '0')}`, text: `b${n}`, userId: 2 }))
  )
  await kronus.messaging.send({ to: '+15559990001', text: 'alarm', userId: 3, priority: 'emergency' })
  t.equal(await kronus.queue.runDue(), 64, 'one batch')
  const order = channel.handed.map((m) => m.text)
  t.equal(order[0], 'alarm')
  t.same(order.slice(1, 7), ['a0', 'b0', 'a1', 'b1', 'a2', 'b2'], 'users take turns')
  t.same(
    order.filter((text) => /^a\d+$/.test(text)),
    Array.from({ length: 60 }, (_, n) => `a${n}`),
    "each user's texts keep their order"
  )
})

t.test("a user's 500 texts do not hold back another user's text for more than a batch", async (t) => {
  const { kronus, channel } = await withChannel(t)
  await kronus.messaging.sendMany(
    Array.from({ length: 500 }, (_, n) => ({
      to: `+1555400${String(n).padStart(4, '0')}`,
      text: `contact ${n}`,
      userId: 1,
      priority: 'emergency' as const
    }))
  )
  kronus.clock.advance(5000)
  await kronus.messaging.send({ to: '+15559990002', text: "Ann's alarm", userId: 2, priority: 'emergency' })
  await kronus.queue.drain()
  const at = channel.handed.findIndex((m) => m.text === "Ann's alarm")
  t.ok(at >= 0 && at < 20, `sent among the first texts (${at + 1}th of 501), not after the 500`)
})

t.test('sendingOrder: alarms first, users in turn, texts about no user as one more user', async (t) => {
  const job = (userId: number | null, emergency = false) => ({
    payload: { to: '+1', text: '', userId, ...(emergency ? { priority: 'emergency' as const } : {}) }
  })
  t.same(sendingOrder([job(1), job(1), job(1), job(null), job(2), job(2, true), job(1, true)]), [5, 6, 0, 3, 4, 1, 2])
  t.same(sendingOrder([]), [])
})

t.test("an alarm's text failing transiently is retried with backoff for 30 minutes, then fails", async (t) => {
  const { kronus, channel } = await withChannel(t)
  const enqueuedAt = kronus.clock.now()
  const tries: number[] = []
  channel.send = async () => {
    tries.push(kronus.clock.now())
    throw new MessageDeliveryError('Twilio answered 503', { permanent: false })
  }
  await kronus.messaging.send({ to: '+15559990003', text: 'ALERT', userId: 5, priority: 'emergency' })
  await kronus.queue.drain()
  for (let step = 0; step < 500; step++) {
    const next = await kronus.knex('jobs').where({ name: 'message.send', status: 'scheduled' }).first('run_at')
    if (!next) break
    kronus.clock.set(Math.max(kronus.clock.now(), Number(next.run_at)))
    await kronus.queue.drain()
  }
  const job = await kronus.knex('jobs').where({ name: 'message.send' }).first()
  t.equal(job.status, 'dead', 'given up in the end')
  const span = tries.at(-1)! - enqueuedAt
  t.ok(span >= 30 * 60_000, `tried for ${(span / 60_000).toFixed(1)} minutes`)
  t.ok(tries.length > 20, `${tries.length} tries`)
  const gaps = tries.slice(1).map((at, i) => at - tries[i]!)
  t.ok(gaps[0]! < gaps[4]!, 'backoff: the first retries come sooner')
  t.ok(
    gaps.every((gap) => gap <= RETRY_UNTIL_MAX_DELAY_MS),
    'at most a minute apart'
  )
  const failed = (await kronus.events.list({ type: 'message.failed' })).map((e) => e.payload)
  t.match(failed, [{ to: '+15559990003', permanent: false }], 'one message.failed, once given up')
})

t.test('alarms.alertRetryMinutes sets how long; a normal text still gives up after 4 tries', async (t) => {
  const { kronus, channel } = await withChannel(t, { alarms: { alertRetryMinutes: 45 } })
  const tries = new Map<string, number[]>()
  channel.send = async (message) => {
    tries.set(message.text, [...(tries.get(message.text) ?? []), kronus.clock.now()])
    throw new MessageDeliveryError('Twilio answered 500', { permanent: false })
  }
  const start = kronus.clock.now()
  await kronus.messaging.send({ to: '+15559990004', text: 'ALERT', userId: 6, priority: 'emergency' })
  await kronus.messaging.send({ to: '+15559990005', text: 'are you OK?', userId: 7 })
  await kronus.queue.drain()
  for (let step = 0; step < 500; step++) {
    const next = await kronus.knex('jobs').where({ name: 'message.send', status: 'scheduled' }).min({ at: 'run_at' })
    if (next[0]?.at == null) break
    kronus.clock.set(Math.max(kronus.clock.now(), Number(next[0].at)))
    await kronus.queue.drain()
  }
  t.equal(tries.get('are you OK?')!.length, 4, 'a check-in text: 4 tries, as before')
  const alert = tries.get('ALERT')!
  t.ok(alert.at(-1)! - start >= 45 * 60_000, 'the alert: 45 minutes of tries')
  t.ok(alert.at(-2)! - start < 45 * 60_000, 'and no try once 45 minutes had passed but the last')
})

t.test('alarms.alertRetryMinutes below 30 is refused', async (t) => {
  await t.rejects(buildKronus(t, { config: { alarms: { alertRetryMinutes: 5 } } }), /alertRetryMinutes/)
})

t.test('a permanent failure of an alarm text ends it at once', async (t) => {
  const { kronus, channel } = await withChannel(t)
  channel.failNext(new MessageDeliveryError('invalid number', { permanent: true }))
  await kronus.messaging.send({ to: '+15559990006', text: 'ALERT', userId: 8, priority: 'emergency' })
  await kronus.queue.drain()
  t.equal(channel.attempts, 1)
  t.equal((await kronus.knex('jobs').where({ name: 'message.send' }).first()).status, 'dead')
})

export type { TestKronus }
