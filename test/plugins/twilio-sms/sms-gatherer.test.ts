import t from 'tap'
import { type ReceivedResult, type ReceivedSms, SmsGatherer } from '../../../plugins/twilio-sms/sms-gatherer.js'

/** A receiveBatch whose batches end only when the test says so. */
function heldBatches() {
  const batches: Array<{ texts: string[]; finish(): void; fail(err: Error): void }> = []
  const receiveBatch = (texts: ReceivedSms[]) =>
    new Promise<ReceivedResult[]>((resolve, reject) => {
      batches.push({
        texts: texts.map((s) => s.messageId),
        finish: () => resolve(texts.map((s) => ({ userId: null, reply: `re ${s.messageId}`, duplicate: false }))),
        fail: reject
      })
    })
  return { batches, receiveBatch }
}

const sms = (messageId: string, from = `+1555000${messageId}`): ReceivedSms => ({ from, text: 'Y', messageId })
const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('a text that finds nothing running goes at once; texts that come meanwhile go together', async (t) => {
  const { batches, receiveBatch } = heldBatches()
  const gatherer = new SmsGatherer({ receiveBatch, onBatchFailed: () => t.fail(), maxBatch: 10, concurrency: 1 })
  const first = gatherer.receive(sms('1'))
  t.same(
    batches.map((b) => b.texts),
    [['1']],
    'the first text does not wait for others'
  )
  const later = [gatherer.receive(sms('2')), gatherer.receive(sms('3')), gatherer.receive(sms('4'))]
  t.equal(batches.length, 1, 'the others wait while a batch runs')
  batches[0]!.finish()
  t.same(await first, { userId: null, reply: 're 1', duplicate: false })
  await tick()
  t.same(
    batches.map((b) => b.texts),
    [['1'], ['2', '3', '4']],
    'the waiting texts are one batch'
  )
  batches[1]!.finish()
  t.same(
    (await Promise.all(later)).map((r) => r.reply),
    ['re 2', 're 3', 're 4'],
    'each request gets its own text’s result'
  )
})

t.test("a phone's texts go one batch after another, in the order they came", async (t) => {
  const { batches, receiveBatch } = heldBatches()
  const gatherer = new SmsGatherer({ receiveBatch, onBatchFailed: () => t.fail(), maxBatch: 10, concurrency: 2 })
  const all = [
    gatherer.receive(sms('1', '+1')),
    gatherer.receive(sms('2', '+1')),
    gatherer.receive(sms('3', '+2')),
    gatherer.receive(sms('4', '+1'))
  ]
  t.same(
    batches.map((b) => b.texts),
    [['1'], ['3']],
    "+1's second text waits for its first, while +2's goes beside it"
  )
  batches[0]!.finish()
  await tick()
  t.same(batches[2]!.texts, ['2'], "+1's next text, and only one of its texts a batch")
  batches[1]!.finish()
  batches[2]!.finish()
  await tick()
  t.same(batches[3]!.texts, ['4'])
  batches[3]!.finish()
  t.same(
    (await Promise.all(all)).map((r) => r.reply),
    ['re 1', 're 2', 're 3', 're 4']
  )
})

t.test('a batch holds at most maxBatch texts; the rest make the next one', async (t) => {
  const { batches, receiveBatch } = heldBatches()
  const gatherer = new SmsGatherer({ receiveBatch, onBatchFailed: () => t.fail(), maxBatch: 2, concurrency: 1 })
  const all = ['1', '2', '3', '4', '5'].map((id) => gatherer.receive(sms(id)))
  for (let i = 0; i < 3; i++) {
    batches[i]!.finish()
    await tick()
  }
  t.same(
    batches.map((b) => b.texts),
    [['1'], ['2', '3'], ['4', '5']]
  )
  t.equal((await Promise.all(all)).length, 5)
})

t.test("a failed batch is handled again text by text, so one text's failure is its request's alone", async (t) => {
  const { batches, receiveBatch } = heldBatches()
  const failed: number[] = []
  const gatherer = new SmsGatherer({
    receiveBatch,
    onBatchFailed: (_, texts) => failed.push(texts),
    maxBatch: 10,
    concurrency: 1
  })
  const first = gatherer.receive(sms('1'))
  const rest = Promise.allSettled(['2', '3', '4'].map((id) => gatherer.receive(sms(id))))
  batches[0]!.finish()
  await first
  await tick()
  batches[1]!.fail(new Error('text 3 broke a handler'))
  await tick()
  t.same(failed, [3], 'told once, with the size of the batch')
  t.same(batches[2]!.texts, ['2'], 'then each text alone, in order')
  batches[2]!.finish()
  await tick()
  batches[3]!.fail(new Error('text 3 broke a handler'))
  await tick()
  batches[4]!.finish()
  const outcomes = await rest
  t.same(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled']
  )
  t.match((outcomes[1] as PromiseRejectedResult).reason, { message: 'text 3 broke a handler' })
  t.same(failed, [3], 'a text that fails alone is not a failed batch')
})

t.test('a gatherer without room for a text is a mistake found at once', async (t) => {
  const { receiveBatch } = heldBatches()
  t.throws(() => new SmsGatherer({ receiveBatch, onBatchFailed: () => {}, maxBatch: 0, concurrency: 1 }), {
    message: /maxBatch and concurrency/
  })
})
