import twilio from 'twilio'
import { TwilioSmsTransport } from '../../../plugins/twilio-sms/transport.js'
import { FakeClock } from '../../../src/clock.js'
import { LoopbackRequestClient } from '../../fakes/twilio-api.js'
import { buildKronus } from '../../helpers/app.js'

/*
 * One worker of the kill test (exactly-once.kill.test.ts): a Kronus on the test's data
 * folder that sends its texts through the real Twilio transport and SDK to the test's
 * loopback fake Twilio, until no text is left to send. The test kills it with SIGKILL.
 * argv: dir, fake base URL, account SID, auth token, service SID, generation, texts to queue (first generation).
 */

const [dir, baseUrl, accountSid, authToken, messagingServiceSid, generationArg, queueArg] = process.argv.slice(
  2
) as string[]
const generation = Number(generationArg)
// Each generation starts an hour after the last one began: every lock a killed worker held has lapsed.
const clock = new FakeClock(Date.UTC(2026, 0, 5, 12) + generation * 3600_000)
const kronus = await buildKronus({ teardown: () => undefined }, { dir, clock })
const client = twilio(accountSid!, authToken!, { httpClient: new LoopbackRequestClient(baseUrl!), autoRetry: false })
kronus.messaging.registerChannel(
  new TwilioSmsTransport({
    accountSid: accountSid!,
    authToken: authToken!,
    messagingServiceSid: messagingServiceSid!,
    messagesPerSecond: 100_000,
    burst: 100_000,
    client
  }),
  { default: true }
)
const toQueue = Number(queueArg)
if (toQueue > 0) {
  // The jobs messaging.sendMany writes, with more attempts: a worker killed while holding a
  // job uses one of its attempts (after 4, a text ends as message.failed, as every job
  // does), and this test's kills, each early in a worker's first batch, strike the same
  // unreached jobs again and again. What is measured here is duplication and silent loss.
  const texts = Array.from({ length: toQueue }, (_, i) => ({
    payload: {
      to: `+1555${String(1_000_000 + (i % 100)).slice(1)}`,
      text: `Are you OK, user ${i % 100}? Check-in ${Math.floor(i / 100) + 1}. Reply Y or N.`,
      userId: null
    },
    options: { maxAttempts: 50 }
  }))
  await kronus.queue.enqueueMany('message.send', texts)
}
process.stdout.write('ready\n')
for (;;) {
  await kronus.queue.drain()
  const [{ n }] = await kronus
    .knex('jobs')
    .where({ name: 'message.send' })
    .whereIn('status', ['scheduled', 'enqueued', 'in-progress'])
    .count({ n: '*' })
  if (Number(n) === 0) break
  // Retries wait out their backoff on the fake clock.
  clock.advanceMinutes(1)
  await new Promise((resolve) => setTimeout(resolve, 10))
}
const [{ n: dead }] = await kronus.knex('jobs').where({ name: 'message.send', status: 'dead' }).count({ n: '*' })
process.stdout.write(`dead text jobs: ${dead}\n`)
await kronus.stop()
process.exit(0)
