import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import pino from 'pino'
import t, { type Test } from 'tap'
import type { KronusEvents } from '../../src/events/types.js'
import { definePlugin, type PluginContext } from '../../src/index.js'
import { MessageDeliveryError, type OutgoingText } from '../../src/messaging/channel.js'
import {
  NO_CHANNEL_REASON,
  QUEUE_BEHIND_MS,
  SENDS_FAILING_MS,
  WATCHDOG_CONFIRM_MS
} from '../../src/services/watchdog.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { call, createAdmin } from '../helpers/http.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

declare module '../../src/queue/types.js' {
  interface KronusJobs {
    'test.watchdog.work': Record<string, never>
  }
}

const MINUTE = 60_000
const START = '2026-05-04T10:00:00Z'

/** A plugin that hands out its context, to report its health as a real plugin would. */
function healthPlugin(got: { kronus?: PluginContext }) {
  return definePlugin({
    name: 'health-test',
    version: '1.0.0',
    register(kronus) {
      got.kronus = kronus
    }
  })()
}

/** A channel whose provider can be down for a while. */
class FlakyChannel extends RecordingChannel {
  down = false

  override async send(message: OutgoingText): Promise<{ messageId: string }> {
    if (this.down) {
      this.attempts += 1
      throw new Error('provider unreachable')
    }
    return super.send(message)
  }
}

interface Setup {
  kronus: TestKronus
  channel: FlakyChannel
  plugin: PluginContext
  logs: Array<{ level: number; msg: string }>
}

async function setup(t: Test, options: { channel?: boolean } = {}): Promise<Setup> {
  const logs: Array<{ level: number; msg: string }> = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(String(chunk)))
      done()
    }
  })
  const got: { kronus?: PluginContext } = {}
  const kronus = await buildKronus(t, {
    config: { plugins: [healthPlugin(got)] },
    logger: pino({ level: 'info' }, stream)
  })
  kronus.clock.set(START)
  const channel = new FlakyChannel()
  if (options.channel !== false) kronus.messaging.registerChannel(channel)
  return { kronus, channel, plugin: got.kronus!, logs }
}

async function conditionNames(kronus: TestKronus): Promise<string[]> {
  return (await kronus.watchdog.conditions()).map((c) => c.condition)
}

async function eventsOf<N extends 'kronus.degraded' | 'kronus.recovered'>(kronus: TestKronus, type: N) {
  return (await kronus.events.list({ type })).map((e) => e.payload as KronusEvents[N])
}

/** A minute of a running server: the watchdog's check on the minute, then the queue runs everything (its texts). */
async function minute(kronus: TestKronus): Promise<void> {
  kronus.clock.advance(MINUTE)
  await kronus.watchdog.check()
  await kronus.queue.drain()
}

t.test('with no way to send texts, /health is degraded and says what to set; a channel makes it ok', async (t) => {
  const { kronus, channel, logs } = await setup(t, { channel: false })
  t.same(await kronus.watchdog.conditions(), [
    { condition: 'no_channel', reason: NO_CHANNEL_REASON, aboutTexting: true }
  ])
  const degraded = await call(kronus, { url: '/health' })
  t.equal(degraded.statusCode, 200, 'still 200: a load balancer keeps the only instance')
  t.same(degraded.body, { success: true, data: { status: 'degraded', database: 'ok', reasons: [NO_CHANNEL_REASON] } })
  t.match(NO_CHANNEL_REASON, /TWILIO_ACCOUNT_SID/)

  await kronus.start()
  const warnings = logs.filter((l) => l.level === 40 && /cannot send a single text/.test(l.msg))
  t.equal(warnings.length, 1, 'one warning at start')
  t.match(warnings[0]!.msg, /TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_MESSAGING_SERVICE_SID/)
  t.notMatch(warnings[0]!.msg, /\n/, 'on one line')

  kronus.messaging.registerChannel(channel)
  t.same(await conditionNames(kronus), [])
  t.same((await call(kronus, { url: '/health' })).body, { success: true, data: { status: 'ok', database: 'ok' } })
})

t.test('a server with a channel logs no warning at start', async (t) => {
  const { kronus, logs } = await setup(t)
  await kronus.start()
  t.equal(logs.filter((l) => /cannot send a single text/.test(l.msg)).length, 0)
})

t.test('no channel is announced once, by event and log, and no admin is texted about it', async (t) => {
  const { kronus, logs } = await setup(t, { channel: false })
  await createAdmin(kronus)
  await minute(kronus)
  t.same(await eventsOf(kronus, 'kronus.degraded'), [], 'one check is not enough: a blip alerts nobody')
  await minute(kronus)
  await minute(kronus)
  const since = Date.parse(START) + MINUTE
  t.same(await eventsOf(kronus, 'kronus.degraded'), [{ condition: 'no_channel', reason: NO_CHANNEL_REASON, since }])
  const errors = logs.filter((l) => l.level === 50 && /Kronus is degraded/.test(l.msg))
  t.equal(errors.length, 1, 'one error line')
  const texts = await kronus.knex('jobs').where({ name: 'message.send' })
  t.equal(texts.length, 0, 'nothing is texted: texting is what does not work')
})

t.test('sends failing for 5 minutes: degraded, announced once, and over at the first text that goes', async (t) => {
  const { kronus, channel } = await setup(t)
  const admin = await createAdmin(kronus)
  channel.down = true
  await kronus.messaging.send({ to: '+15550001111', text: 'hello' })
  await kronus.queue.drain()
  t.ok(channel.attempts >= 1, 'the send was tried and failed')
  const failedAt = kronus.clock.now()

  for (let m = 1; m < 5; m++) {
    await minute(kronus)
    t.same(await conditionNames(kronus), [], `${m} min of failures is not yet degraded`)
  }
  kronus.clock.set(failedAt + SENDS_FAILING_MS)
  t.same(await conditionNames(kronus), ['sends_failing:recording'])
  const [condition] = await kronus.watchdog.conditions()
  t.match(condition!.reason, /every text through recording has failed since .*provider unreachable/)
  const health = await call(kronus, { url: '/health' })
  t.equal(health.body.data.status, 'degraded')

  await minute(kronus)
  await minute(kronus)
  await minute(kronus)
  const degraded = await eventsOf(kronus, 'kronus.degraded')
  t.equal(degraded.length, 1, 'announced once')
  t.equal(degraded[0]!.condition, 'sends_failing:recording')
  t.same(await kronus.knex('jobs').where({ name: 'message.send', user_id: admin.id }), [], 'no text to the admin')

  // The provider is back: the next text goes, and the condition ends.
  channel.down = false
  await kronus.messaging.send({ to: '+15550002222', text: 'it works' })
  await kronus.queue.drain()
  t.same(await conditionNames(kronus), [])
  await minute(kronus)
  await minute(kronus)
  const recovered = await eventsOf(kronus, 'kronus.recovered')
  t.equal(recovered.length, 1, 'recovery announced once')
  t.equal(recovered[0]!.condition, 'sends_failing:recording')
  t.same(
    channel.sent.filter((s) => s.to === admin.phone_number),
    [],
    'the admin is not texted about texting'
  )
})

t.test('an account-level refusal is degraded at once, until a text goes', async (t) => {
  const { kronus, channel } = await setup(t)
  channel.failNext(
    new MessageDeliveryError('Twilio rejected the message (HTTP 401 code 20003, authentication failed)', {
      permanent: false,
      accountLevel: true
    })
  )
  await kronus.messaging.send({ to: '+15550001111', text: 'hello' })
  await kronus.queue.runDue()
  t.same(await conditionNames(kronus), ['account:recording'])
  const [condition] = await kronus.watchdog.conditions()
  t.match(condition!.reason, /recording refuses Kronus's account.*20003/)
  await minute(kronus)
  t.equal(channel.sent.length, 1, 'the retry went through')
  t.same(await conditionNames(kronus), [])
})

t.test('an undelivered receipt blamed on the account is degraded until a delivered one', async (t) => {
  const { kronus } = await setup(t)
  await kronus.messaging.deliveryReport({
    channel: 'recording',
    messageId: 'SM1',
    to: '+15550001111',
    status: 'undelivered',
    errorCode: 30034,
    error: 'undelivered (Twilio error 30034): the sender number is not registered for A2P 10DLC',
    accountLevel: true
  })
  t.same(await conditionNames(kronus), ['account:recording'])
  await kronus.messaging.deliveryReport({
    channel: 'recording',
    messageId: 'SM2',
    to: '+15550001111',
    status: 'undelivered',
    errorCode: 30003,
    error: 'undelivered (Twilio error 30003): the phone is unreachable',
    accountLevel: false
  })
  t.same(await conditionNames(kronus), ['account:recording'], "one person's phone cures nothing")
  await kronus.messaging.send({ to: '+15550001111', text: 'hello' })
  t.equal(await kronus.queue.runDue(), 1)
  t.same(
    await conditionNames(kronus),
    ['account:recording'],
    'a text the provider accepts cures nothing either: only a delivery shows texts reach people'
  )
  await kronus.messaging.deliveryReport({
    channel: 'recording',
    messageId: 'SM3',
    to: '+15550001111',
    status: 'delivered',
    errorCode: null,
    error: null
  })
  t.same(await conditionNames(kronus), [])
})

t.test('the oldest due job older than 2 minutes: degraded, each admin texted once, and once when over', async (t) => {
  const { kronus, channel } = await setup(t)
  const admin = await createAdmin(kronus)
  let ran = 0
  kronus.queue.define('test.watchdog.work', async () => void ran++)
  await kronus.queue.enqueue('test.watchdog.work', {})
  kronus.clock.advance(QUEUE_BEHIND_MS - 1)
  t.same(await conditionNames(kronus), [], 'under 2 minutes')
  kronus.clock.advance(1)
  t.same(await conditionNames(kronus), ['queue_behind'])
  const [condition] = await kronus.watchdog.conditions()
  t.match(condition!.reason, /job \d+ \(test\.watchdog\.work\) has waited 2 min/)

  // The queue is stuck: the watchdog's checks run anyway, since they are not jobs.
  await kronus.watchdog.check()
  kronus.clock.advance(MINUTE)
  await kronus.watchdog.check()
  await kronus.watchdog.check()
  t.equal((await eventsOf(kronus, 'kronus.degraded')).length, 1, 'announced once')
  const queued = await kronus.knex('jobs').where({ name: 'message.send', user_id: admin.id })
  t.equal(queued.length, 1, 'one text for the admin')
  t.match(JSON.parse(queued[0].payload).text, /^Kronus needs attention: the job queue is stuck or behind/)

  await kronus.queue.drain()
  t.equal(ran, 1, 'the late job ran')
  t.same(
    channel.sent.map((s) => s.to),
    [admin.phone_number],
    'the admin got the text once the queue moved'
  )
  t.same(await conditionNames(kronus), [])
  await kronus.watchdog.check()
  await kronus.watchdog.check()
  const recovered = await eventsOf(kronus, 'kronus.recovered')
  t.equal(recovered.length, 1, 'recovery announced once')
  t.equal(recovered[0]!.durationMs, MINUTE)
  await kronus.queue.drain()
  t.equal(channel.sent.length, 2)
  t.match(channel.sent[1]!.text, /^Kronus: this problem is over after 1 min: the job queue is stuck or behind/)
})

t.test('a job held behind an earlier one of its lane is not stuck', async (t) => {
  const { kronus } = await setup(t)
  kronus.queue.define('test.watchdog.work', async () => undefined)
  await kronus.queue.enqueue('test.watchdog.work', {}, { lane: 'test-lane', runAt: kronus.clock.now() + 10 * MINUTE })
  await kronus.queue.enqueue('test.watchdog.work', {}, { lane: 'test-lane' })
  kronus.clock.advance(5 * MINUTE)
  t.same(await conditionNames(kronus), [], 'the first of the lane is not due yet; the second waits for it')
})

t.test("a plugin's own report: degraded with its reason until it recovers, texted once each way", async (t) => {
  const { kronus, channel, plugin } = await setup(t)
  const admin = await createAdmin(kronus)
  await plugin.health.degraded('the last backup failed: bucket not found')
  await plugin.health.degraded('the last backup failed: permission denied')
  t.same(await kronus.watchdog.conditions(), [
    {
      condition: 'plugin:health-test',
      reason: 'health-test: the last backup failed: permission denied',
      aboutTexting: false
    }
  ])
  await t.rejects(plugin.health.degraded('  '), /kronus\.health\.degraded needs a reason/)
  await minute(kronus)
  await minute(kronus)
  await minute(kronus)
  t.same(
    channel.sent.map((s) => s.text),
    [
      'Kronus needs attention: health-test: the last backup failed: permission denied. You will get a text when this is over.'
    ]
  )
  t.equal(channel.sent[0]!.to, admin.phone_number)

  await plugin.health.recovered()
  await plugin.health.recovered()
  t.same(await conditionNames(kronus), [])
  await minute(kronus)
  await minute(kronus)
  t.equal(channel.sent.length, 2, 'one more text: the recovery')
  t.match(channel.sent[1]!.text, /^Kronus: this problem is over after 3 min: health-test: the last backup failed/)
  t.equal((await eventsOf(kronus, 'kronus.degraded')).length, 1)
  t.equal((await eventsOf(kronus, 'kronus.recovered')).length, 1)
})

t.test('a condition seen once and gone at the next check was a blip: nothing is announced', async (t) => {
  const { kronus, plugin } = await setup(t)
  await plugin.health.degraded('hiccup')
  await minute(kronus)
  await plugin.health.recovered()
  await minute(kronus)
  await minute(kronus)
  t.same(await eventsOf(kronus, 'kronus.degraded'), [])
  t.same(await eventsOf(kronus, 'kronus.recovered'), [])
})

t.test('a second check within the same minute, as a second instance makes, does not confirm a condition', async (t) => {
  const { kronus, channel, plugin } = await setup(t)
  await createAdmin(kronus)
  await plugin.health.degraded('the last backup failed')
  await kronus.watchdog.check()
  kronus.clock.advance(WATCHDOG_CONFIRM_MS - 1)
  await kronus.watchdog.check()
  await kronus.queue.drain()
  t.same(await eventsOf(kronus, 'kronus.degraded'), [], 'seen twice, but not yet for the confirmation time')
  t.equal(channel.sent.length, 0)
  kronus.clock.advance(1)
  await kronus.watchdog.check()
  await kronus.queue.drain()
  t.equal((await eventsOf(kronus, 'kronus.degraded')).length, 1, 'announced once it has lasted')
  t.equal(channel.sent.length, 1, 'the admin is texted')
})

t.test('a started server checks by itself, at once and with no job on the queue', async (t) => {
  const { kronus, plugin } = await setup(t)
  await plugin.health.degraded('the last backup failed')
  await kronus.start()
  // The first check runs at start, then every minute on the clock.
  while ((await kronus.knex('degraded_conditions').where({ condition: 'plugin:health-test' })).length === 0)
    await sleep(20)
  t.same(await kronus.knex('cron_schedules').where({ name: 'kronus.watchdog' }), [], 'not on the durable cron')
  t.same(await kronus.knex('jobs').where({ name: 'kronus.watchdog' }), [], 'no job: a stuck queue cannot stop it')
  await kronus.stop()
})
