import t from 'tap'
import { MessageDeliveryError } from '../../src/messaging/channel.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

/*
 * A text's ref (what it is for, e.g. an alarm contact) follows it: into its job, its send
 * record, its message.sent or message.failed, and the delivery receipt that comes later
 * naming only the provider's id.
 */

async function withChannel(
  t: Parameters<typeof buildKronus>[0]
): Promise<{ kronus: TestKronus; channel: RecordingChannel }> {
  const kronus = await buildKronus(t)
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  return { kronus, channel }
}

async function payloads(
  kronus: TestKronus,
  type: 'message.sent' | 'message.failed' | 'message.delivered' | 'message.undelivered'
) {
  return (await kronus.events.list({ type })).map((e) => e.payload)
}

t.test('a ref is carried into the job, the send record and message.sent', async (t) => {
  const { kronus } = await withChannel(t)
  await kronus.messaging.send({ to: '+15550001001', text: 'Alert: Bob said N', userId: 7, ref: 'alarm-contact:12' })
  const [job] = await kronus.knex('jobs').where({ name: 'message.send' })
  t.same(JSON.parse(job.payload), { to: '+15550001001', text: 'Alert: Bob said N', userId: 7, ref: 'alarm-contact:12' })
  await kronus.queue.drain()
  t.same(await payloads(kronus, 'message.sent'), [
    {
      to: '+15550001001',
      text: 'Alert: Bob said N',
      userId: 7,
      channel: 'recording',
      messageId: 'recording-1',
      ref: 'alarm-contact:12'
    }
  ])
  const [send] = await kronus.knex('message_sends').where({ job_id: job.id })
  t.equal(send.ref, 'alarm-contact:12')
  t.equal(Number(send.user_id), 7)
  t.equal(send.provider_id, 'recording-1')
})

t.test('without a ref nothing changes: no ref in the job or the events, null on record', async (t) => {
  const { kronus } = await withChannel(t)
  await kronus.messaging.send({ to: '+15550001002', text: 'are you OK? (Y/N)' })
  const [job] = await kronus.knex('jobs').where({ name: 'message.send' })
  t.same(JSON.parse(job.payload), { to: '+15550001002', text: 'are you OK? (Y/N)', userId: null })
  await kronus.queue.drain()
  const [sent] = await payloads(kronus, 'message.sent')
  t.notOk('ref' in (sent as object), 'message.sent has no ref key')
  const [send] = await kronus.knex('message_sends')
  t.equal(send.ref, null)
  t.equal(send.user_id, null)
})

t.test('texts sent together keep each their own ref', async (t) => {
  const { kronus } = await withChannel(t)
  await kronus.messaging.sendMany([
    { to: '+15550001003', text: 'alert', userId: 1, ref: 'alarm-contact:1' },
    { to: '+15550001004', text: 'alert', userId: 1, ref: 'alarm-contact:2' },
    { to: '+15550001005', text: 'check-in', userId: 2 }
  ])
  await kronus.queue.drain()
  const sent = (await payloads(kronus, 'message.sent')) as Array<{ to: string; ref?: string }>
  t.same(sent.map((s) => [s.to, s.ref]).sort(), [
    ['+15550001003', 'alarm-contact:1'],
    ['+15550001004', 'alarm-contact:2'],
    ['+15550001005', undefined]
  ])
  const rows = await kronus.knex('message_sends').orderBy('provider_id')
  t.same(
    rows.map((r) => [r.ref, r.user_id === null ? null : Number(r.user_id)]).sort(),
    [
      ['alarm-contact:1', 1],
      ['alarm-contact:2', 1],
      [null, 2]
    ].sort()
  )
})

t.test('a permanent failure carries the ref on message.failed', async (t) => {
  const { kronus, channel } = await withChannel(t)
  channel.failNext(new MessageDeliveryError('invalid To number', { permanent: true }))
  await kronus.messaging.send({ to: '+15550001006', text: 'alert', userId: 3, ref: 'alarm-user:4' })
  await kronus.queue.drain()
  t.same(await payloads(kronus, 'message.failed'), [
    {
      to: '+15550001006',
      text: 'alert',
      userId: 3,
      channel: 'recording',
      error: 'invalid To number',
      permanent: true,
      ref: 'alarm-user:4'
    }
  ])
})

t.test('a text that runs out of tries carries the ref on message.failed', async (t) => {
  const { kronus, channel } = await withChannel(t)
  for (let i = 0; i < 4; i++) channel.failNext(new Error(`timeout ${i + 1}`))
  await kronus.messaging.send({ to: '+15550001007', text: 'alert', userId: 5, ref: 'alarm-contact:9' })
  for (let i = 0; i < 6; i++) {
    await kronus.queue.drain()
    kronus.clock.advanceMinutes(60)
  }
  t.match(await payloads(kronus, 'message.failed'), [
    { to: '+15550001007', userId: 5, permanent: false, ref: 'alarm-contact:9' }
  ])
})

t.test("a delivery receipt names the text's ref and user from its send record", async (t) => {
  const { kronus } = await withChannel(t)
  await kronus.messaging.send({ to: '+15550001008', text: 'alert', userId: 8, ref: 'alarm-contact:3' })
  await kronus.messaging.send({ to: '+15550001009', text: 'alert', userId: 8, ref: 'alarm-contact:4' })
  await kronus.queue.drain()
  const byTo = new Map(
    ((await payloads(kronus, 'message.sent')) as Array<{ to: string; messageId: string }>).map((s) => [
      s.to,
      s.messageId
    ])
  )
  await kronus.messaging.deliveryReport({
    channel: 'recording',
    messageId: byTo.get('+15550001008')!,
    to: '+15550001008',
    status: 'delivered',
    errorCode: null,
    error: null
  })
  await kronus.messaging.deliveryReport({
    channel: 'recording',
    messageId: byTo.get('+15550001009')!,
    to: '+15550001009',
    status: 'undelivered',
    errorCode: 30003,
    error: 'unreachable'
  })
  t.same(await payloads(kronus, 'message.delivered'), [
    { to: '+15550001008', userId: 8, channel: 'recording', messageId: byTo.get('+15550001008'), ref: 'alarm-contact:3' }
  ])
  t.same(await payloads(kronus, 'message.undelivered'), [
    {
      to: '+15550001009',
      userId: 8,
      channel: 'recording',
      messageId: byTo.get('+15550001009'),
      ref: 'alarm-contact:4',
      status: 'undelivered',
      errorCode: 30003,
      error: 'unreachable'
    }
  ])
})

t.test('a ref longer than its record holds is refused when queued, not when sent', async (t) => {
  const { kronus } = await withChannel(t)
  await t.rejects(kronus.messaging.send({ to: '+15550001010', text: 'x', ref: 'r'.repeat(161) }), RangeError)
  await t.rejects(kronus.messaging.send({ to: '+15550001010', text: 'x', ref: '' }), RangeError)
  await kronus.messaging.send({ to: '+15550001010', text: 'x', ref: 'r'.repeat(160) })
  await kronus.queue.drain()
  t.equal((await payloads(kronus, 'message.sent')).length, 1)
})
