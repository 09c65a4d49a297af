import t from 'tap'
import { MessageDeliveryError } from '../../src/messaging/channel.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

async function withChannel(
  t: Parameters<typeof buildKronus>[0]
): Promise<{ kronus: TestKronus; channel: RecordingChannel }> {
  const kronus = await buildKronus(t)
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  return { kronus, channel }
}

async function eventsOf(kronus: TestKronus, type: 'message.sent' | 'message.failed' | 'message.received' | 'job.dead') {
  return (await kronus.events.list({ type })).map((e) => e.payload)
}

t.test('a text sent with a change goes out only if the change commits', async (t) => {
  const { kronus, channel } = await withChannel(t)
  await t.rejects(
    kronus.knex.transaction(async (trx) => {
      await kronus.messaging.send({ to: '+15550000001', text: 'never', userId: 1 }, trx)
      throw new Error('rolled back')
    })
  )
  await kronus.knex.transaction(async (trx) => {
    await kronus.messaging.send({ to: '+15550000002', text: 'are you OK? (Y/N)', userId: 2 }, trx)
  })
  t.same(channel.sent, [], "nothing is sent while the caller's transaction runs")
  await kronus.queue.drain()
  t.same(channel.sent, [{ to: '+15550000002', text: 'are you OK? (Y/N)' }])
  t.same(await eventsOf(kronus, 'message.sent'), [
    { to: '+15550000002', text: 'are you OK? (Y/N)', userId: 2, channel: 'recording', messageId: 'recording-1' }
  ])
})

t.test('a text queued before a crash is sent by the next process', async (t) => {
  const first = await buildKronus(t)
  await first.messaging.send({ to: '+15550000003', text: 'still here?' })
  await first.stop()
  const second = await buildKronus(t, { dir: first.dir, clock: first.clock })
  const channel = new RecordingChannel('after-restart')
  second.messaging.registerChannel(channel)
  await second.queue.drain()
  t.same(channel.sent, [{ to: '+15550000003', text: 'still here?' }])
})

t.test('a permanent failure is recorded once and never retried', async (t) => {
  const { kronus, channel } = await withChannel(t)
  channel.failNext(new MessageDeliveryError('number unreachable', { permanent: true }))
  await kronus.messaging.send({ to: '+15550000004', text: 'hello', userId: 4 })
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(24 * 60)
  await kronus.queue.drain()
  t.equal(channel.attempts, 1, 'one try only')
  t.same(channel.sent, [])
  t.same(await eventsOf(kronus, 'message.failed'), [
    { to: '+15550000004', text: 'hello', userId: 4, channel: 'recording', error: 'number unreachable', permanent: true }
  ])
  t.same(await eventsOf(kronus, 'message.sent'), [])
  const [job] = await kronus.knex('jobs').where({ name: 'message.send' })
  t.equal(job.status, 'dead', 'the job shows as dead to the admin')
  t.equal((await eventsOf(kronus, 'job.dead')).length, 1)
})

t.test('a passing failure is retried and the text goes out once', async (t) => {
  const { kronus, channel } = await withChannel(t)
  channel.failNext(new MessageDeliveryError('provider busy', { permanent: false }))
  channel.failNext(new Error('socket hang up'))
  await kronus.messaging.send({ to: '+15550000005', text: 'hello' })
  await kronus.queue.drain()
  t.same(channel.sent, [])
  kronus.clock.advanceMinutes(1)
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(1)
  await kronus.queue.drain()
  t.equal(channel.attempts, 3)
  t.same(channel.sent, [{ to: '+15550000005', text: 'hello' }])
  t.equal((await eventsOf(kronus, 'message.sent')).length, 1)
  t.same(await eventsOf(kronus, 'message.failed'), [])
})

t.test('a text that fails every try ends as message.failed', async (t) => {
  const { kronus, channel } = await withChannel(t)
  for (let i = 0; i < 4; i++) channel.failNext(new Error(`timeout ${i + 1}`))
  await kronus.messaging.send({ to: '+15550000006', text: 'hello', userId: 6 })
  for (let i = 0; i < 6; i++) {
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(60)
  }
  t.equal(channel.attempts, 4, 'four tries, as the first Kronus')
  t.same(await eventsOf(kronus, 'message.failed'), [
    { to: '+15550000006', text: 'hello', userId: 6, channel: 'recording', error: 'Error: timeout 4', permanent: false }
  ])
  t.match(await eventsOf(kronus, 'job.dead'), [{ name: 'message.send', attempts: 4, lastError: 'Error: timeout 4' }])
})

t.test('without any channel, a text fails and someone hears of it', async (t) => {
  const kronus = await buildKronus(t)
  await kronus.messaging.send({ to: '+15550000007', text: 'hello' })
  for (let i = 0; i < 6; i++) {
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(60)
  }
  t.match(await eventsOf(kronus, 'message.failed'), [
    { to: '+15550000007', channel: 'none', error: /no messaging channel/, permanent: false }
  ])
})

t.test('sending with the same key twice sends one text', async (t) => {
  const { kronus, channel } = await withChannel(t)
  await kronus.messaging.send({ to: '+15550000008', text: 'once', key: 'probe:1:ask' })
  await kronus.messaging.send({ to: '+15550000008', text: 'once', key: 'probe:1:ask' })
  await kronus.queue.drain()
  t.same(channel.sent, [{ to: '+15550000008', text: 'once' }])
})

t.test('texts go through the default channel', async (t) => {
  const kronus = await buildKronus(t)
  const first = new RecordingChannel('first')
  const preferred = new RecordingChannel('preferred')
  kronus.messaging.registerChannel(first)
  kronus.messaging.registerChannel(preferred, { default: true })
  t.throws(() => kronus.messaging.registerChannel(new RecordingChannel('first')), /already registered/)
  await kronus.messaging.send({ to: '+15550000009', text: 'hi' })
  await kronus.queue.drain()
  t.same(first.sent, [])
  t.same(preferred.sent, [{ to: '+15550000009', text: 'hi' }])
})

t.test('an inbound text is recorded with the user whose phone sent it', async (t) => {
  const kronus = await buildKronus(t)
  const user = await kronus.services.users.create(
    {
      first_name: 'A',
      last_name: 'B',
      email: 'a@example.com',
      phone_number: '+15550000010',
      password: 'pw-long-secret'
    },
    null
  )
  await kronus.messaging.receive({ from: '+15550000010', text: 'yes', channel: 'twilio', messageId: 'SM1' })
  await kronus.messaging.receive({ from: '+15559999999', text: 'who is this', channel: 'twilio' })
  t.same(await eventsOf(kronus, 'message.received'), [
    { from: '+15550000010', text: 'yes', userId: user.id, channel: 'twilio', messageId: 'SM1' },
    { from: '+15559999999', text: 'who is this', userId: null, channel: 'twilio', messageId: null }
  ])
})

t.test(
  'texts queued together go out in one batch: each once, failures apart, message.sent in queue order',
  async (t) => {
    const { kronus, channel } = await withChannel(t)
    channel.failNext(new MessageDeliveryError('number unreachable', { permanent: true }))
    channel.failNext(new MessageDeliveryError('provider busy', { permanent: false }))
    const phones = Array.from({ length: 30 }, (_, i) => `+1555100${String(i).padStart(4, '0')}`)
    await kronus.knex.transaction((trx) =>
      kronus.messaging.sendMany(
        phones.map((to, i) => ({ to, text: `text ${i}`, key: `batch:${i}` })),
        trx
      )
    )
    await kronus.queue.drain()
    t.equal(channel.attempts, 30, 'every text tried once so far')
    t.same(await eventsOf(kronus, 'message.failed'), [
      {
        to: phones[0],
        text: 'text 0',
        userId: null,
        channel: 'recording',
        error: 'number unreachable',
        permanent: true
      }
    ])
    t.same(
      (await eventsOf(kronus, 'message.sent')).map((e: any) => e.to),
      phones.slice(2),
      'logged in the order the texts were queued'
    )
    kronus.clock.advanceMinutes(1)
    await kronus.queue.drain()
    t.equal(channel.attempts, 31, 'only the passing failure is tried again')
    t.same(channel.sent.map((m) => m.to).sort(), phones.slice(1).sort(), 'every other text went out exactly once')
    const byStatus = await kronus
      .knex('jobs')
      .where({ name: 'message.send' })
      .select('status')
      .count({ n: '*' })
      .groupBy('status')
    t.same(Object.fromEntries(byStatus.map((r: any) => [r.status, Number(r.n)])), { dead: 1, successful: 29 })
  }
)

t.test('a slow channel is handed a bounded number of texts at once', async (t) => {
  const kronus = await buildKronus(t)
  let inFlight = 0
  let most = 0
  kronus.messaging.registerChannel({
    name: 'slow',
    async send() {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      return { messageId: null }
    }
  })
  await kronus.messaging.sendMany(
    Array.from({ length: 50 }, (_, i) => ({ to: `+1555200${String(i).padStart(4, '0')}`, text: 'hi' }))
  )
  await kronus.queue.drain()
  t.equal((await eventsOf(kronus, 'message.sent')).length, 50)
  t.ok(most > 1, `sent side by side (${most} at most)`)
  t.ok(most <= 8, `never more than 8 at once (${most})`)
})
