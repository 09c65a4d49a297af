import t from 'tap'
import type { MessagingChannel, OutgoingText } from '../../src/messaging/channel.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'

/**
 * A provider and its channel in one: what it accepted it keeps, and it can be told to
 * lose its answer after accepting (as when the worker dies before recording it) or to
 * fail before accepting.
 */
class ProviderChannel implements MessagingChannel {
  readonly name = 'provider'
  readonly accepted: Array<OutgoingText & { id: string; at: number }> = []
  reconciles = 0
  #loseAnswers = 0
  #failBefore = 0
  #failReconciles = 0

  loseNextAnswer(): void {
    this.#loseAnswers += 1
  }

  failNextBeforeAccepting(): void {
    this.#failBefore += 1
  }

  failNextReconcile(): void {
    this.#failReconciles += 1
  }

  async send(message: OutgoingText): Promise<{ messageId: string }> {
    if (this.#failBefore > 0) {
      this.#failBefore -= 1
      throw new Error('connection refused')
    }
    const id = `P${this.accepted.length + 1}`
    this.accepted.push({ ...message, id, at: Date.now() })
    if (this.#loseAnswers > 0) {
      this.#loseAnswers -= 1
      throw new Error('socket hang up')
    }
    return { messageId: id }
  }

  async reconcile(message: OutgoingText, since: number): Promise<string[]> {
    this.reconciles += 1
    if (this.#failReconciles > 0) {
      this.#failReconciles -= 1
      throw new Error('list unavailable')
    }
    return this.accepted
      .filter((m) => m.to === message.to && m.text === message.text && m.at >= since)
      .reverse()
      .map((m) => m.id)
  }
}

async function withProvider(
  t: Parameters<typeof buildKronus>[0]
): Promise<{ kronus: TestKronus; provider: ProviderChannel }> {
  const kronus = await buildKronus(t)
  const provider = new ProviderChannel()
  kronus.messaging.registerChannel(provider)
  return { kronus, provider }
}

/** Runs what is due, then what is due after the retry delay. */
async function settle(kronus: TestKronus): Promise<void> {
  await kronus.queue.drain()
  kronus.clock.advanceMinutes(1)
  await kronus.queue.drain()
}

async function sentEvents(kronus: TestKronus) {
  return (await kronus.events.list({ type: 'message.sent' })).map((e) => e.payload)
}

t.test('a text the provider accepted but whose answer never arrived is recorded, not sent again', async (t) => {
  const { kronus, provider } = await withProvider(t)
  provider.loseNextAnswer()
  await kronus.messaging.send({ to: '+15550000001', text: 'are you OK? (Y/N)', userId: 1 })
  await settle(kronus)
  t.equal(provider.accepted.length, 1, 'one text reached the provider')
  t.equal(provider.reconciles, 1, 'the retry asked the provider first')
  t.same(
    await sentEvents(kronus),
    [{ to: '+15550000001', text: 'are you OK? (Y/N)', userId: 1, channel: 'provider', messageId: 'P1' }],
    'recorded as sent with the id the provider gave it'
  )
  const [job] = await kronus.knex('jobs').where({ name: 'message.send' })
  t.equal(job.status, 'successful')
  const [send] = await kronus.knex('message_sends').where({ job_id: job.id })
  t.equal(send.provider_id, 'P1', 'the send is finished with the provider id')
})

t.test('a text the provider never got is sent once reconciling finds nothing', async (t) => {
  const { kronus, provider } = await withProvider(t)
  provider.failNextBeforeAccepting()
  await kronus.messaging.send({ to: '+15550000002', text: 'are you OK? (Y/N)', userId: 2 })
  await settle(kronus)
  t.same(
    provider.accepted.map((m) => m.id),
    ['P1'],
    'sent once, on the retry'
  )
  t.equal(provider.reconciles, 1)
  t.same(
    (await sentEvents(kronus)).map((e) => e.messageId),
    ['P1']
  )
})

t.test("an identical earlier text that is another send's is never taken for this one", async (t) => {
  const { kronus, provider } = await withProvider(t)
  await kronus.messaging.send({ to: '+15550000003', text: 'are you OK? (Y/N)', userId: 3 })
  await kronus.queue.drain()
  provider.failNextBeforeAccepting()
  await kronus.messaging.send({ to: '+15550000003', text: 'are you OK? (Y/N)', userId: 3 })
  await settle(kronus)
  t.same(
    provider.accepted.map((m) => m.id),
    ['P1', 'P2'],
    'the second check-in went out too'
  )
  t.same(
    (await sentEvents(kronus)).map((e) => e.messageId),
    ['P1', 'P2'],
    'each recorded with its own id'
  )
})

t.test('when the provider cannot be asked, nothing is sent until it can', async (t) => {
  const { kronus, provider } = await withProvider(t)
  provider.loseNextAnswer()
  provider.failNextReconcile()
  await kronus.messaging.send({ to: '+15550000004', text: 'are you OK? (Y/N)', userId: 4 })
  await settle(kronus)
  t.equal(provider.accepted.length, 1, 'not sent while the provider could not say whether it had the text')
  t.same(await sentEvents(kronus), [], 'not recorded either')
  kronus.clock.advanceMinutes(5)
  await kronus.queue.drain()
  t.equal(provider.accepted.length, 1, 'still one text')
  t.same(
    (await sentEvents(kronus)).map((e) => e.messageId),
    ['P1'],
    'recorded once the provider answered'
  )
})

t.test('a channel that cannot reconcile sends such a text again: at least once', async (t) => {
  const kronus = await buildKronus(t)
  const sent: string[] = []
  let lose = true
  kronus.messaging.registerChannel({
    name: 'plain',
    async send(message) {
      sent.push(message.text)
      if (lose) {
        lose = false
        throw new Error('socket hang up')
      }
      return { messageId: null }
    }
  })
  await kronus.messaging.send({ to: '+15550000005', text: 'hello' })
  await settle(kronus)
  t.same(sent, ['hello', 'hello'], 'sent twice: the channel cannot tell whether the first went out')
})

t.test('a clean batch finishes every send and asks the provider nothing', async (t) => {
  const { kronus, provider } = await withProvider(t)
  await kronus.messaging.sendMany([
    { to: '+15550000006', text: 'one' },
    { to: '+15550000007', text: 'two' }
  ])
  await kronus.queue.drain()
  t.equal(provider.accepted.length, 2)
  t.same(await kronus.knex('message_sends').whereNull('finished_at'), [], 'every send finished')
  t.equal(provider.reconciles, 0, 'a clean run asks the provider nothing')
})

t.test('a send record goes with its job when successful jobs are pruned', async (t) => {
  const { kronus } = await withProvider(t)
  await kronus.messaging.send({ to: '+15550000008', text: 'hello' })
  await kronus.queue.drain()
  t.equal((await kronus.knex('message_sends')).length, 1)
  kronus.clock.advanceMinutes(8 * 24 * 60)
  await kronus.queue.prune()
  t.same(await kronus.knex('message_sends'), [], 'no send record outlives its job')
})

t.test(
  'no text starts once its run is out of time, even if the abort has not fired yet; the rest go once, later',
  async (t) => {
    const { kronus, provider } = await withProvider(t)
    // The machine stalls during the first texts: the clock passes the run's deadline (the
    // default 60 s timeout) before the abort's timer could fire.
    const send = provider.send.bind(provider)
    let stalled = false
    provider.send = async (message) => {
      if (!stalled) {
        stalled = true
        kronus.clock.advance(61_000)
      }
      return send(message)
    }
    const numbers = Array.from({ length: 20 }, (_, i) => `+1555000${String(i).padStart(4, '0')}`)
    for (const to of numbers) await kronus.messaging.send({ to, text: 'are you OK? (Y/N)', userId: 1 })
    await kronus.queue.runDue()
    const inFirstRun = provider.accepted.length
    t.ok(
      inFirstRun > 0 && inFirstRun < numbers.length,
      `only the texts already started went out in the late run (${inFirstRun} of ${numbers.length})`
    )
    await settle(kronus)
    t.same(provider.accepted.map((m) => m.to).sort(), [...numbers].sort(), 'every text went out exactly once')
    t.equal((await sentEvents(kronus)).length, numbers.length, 'and each is recorded once')
  }
)
