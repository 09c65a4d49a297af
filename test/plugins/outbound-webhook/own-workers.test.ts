import t from 'tap'
import { RecordingChannel } from '../../helpers/recording-channel.js'
import { aliveness, buildWebhookKronus } from './harness.js'
import { startReceiver } from './receiver.js'

t.test('deliveries to an endpoint that never answers do not delay an alarm text', async (t) => {
  const receiver = await startReceiver(t)
  receiver.respond = () => 'hang'
  const kronus = await buildWebhookKronus(t, {
    allowPrivateNetworks: true,
    concurrency: 2,
    timeoutMs: 60_000,
    endpoints: [
      {
        url: `${receiver.origin}/slow`,
        secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        events: ['user.aliveness_changed']
      }
    ]
  })
  const channel = new RecordingChannel()
  kronus.messaging.registerChannel(channel)
  // Ten users' events: ten deliveries, in ten lanes, all able to run at once. Passes are
  // started without waiting for them, since a delivery's pass ends only when it does.
  for (let userId = 1; userId <= 10; userId++) await aliveness(kronus, userId, 'good', userId)
  const passes: Array<Promise<number>> = []
  const pass = async () => {
    passes.push(kronus.queue.runDue())
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const queued = async () =>
    Number((await kronus.knex('jobs').where({ name: 'outbound-webhook.deliver' }).count({ n: '*' }))[0]!.n)
  for (let n = 0; n < 200 && (receiver.requests.length < 2 || (await queued()) < 10); n++) await pass()
  t.equal(await queued(), 10, 'ten deliveries queued')
  t.equal(receiver.requests.length, 2, 'two hang at the endpoint, one per worker of its own')

  await kronus.messaging.send({ to: '+15559990000', text: 'ALERT', userId: 99, priority: 'emergency' })
  await kronus.messaging.send({ to: '+15559990001', text: 'are you OK?', userId: 98 })
  for (let n = 0; n < 200 && channel.sent.length < 2; n++) await pass()
  t.same(
    channel.sent.map((m) => m.text),
    ['ALERT', 'are you OK?'],
    'both texts went out while the deliveries still hung'
  )
  t.equal(receiver.requests.length, 2, 'and no third delivery took a slot')
  const inProgress = await kronus.knex('jobs').where({ name: 'outbound-webhook.deliver', status: 'in-progress' })
  t.equal(inProgress.length, 2, 'the two hanging deliveries are still running')
  // Let the hanging deliveries fail, so every pass ends.
  await receiver.close()
  await Promise.all(passes)
})
