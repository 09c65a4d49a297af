import t from 'tap'
import type { KronusConfigInput } from '../../src/config/types.js'
import { ConsoleChannel } from '../../src/messaging/console-channel.js'
import { definePlugin } from '../../src/plugins/define.js'
import { buildKronus } from '../helpers/app.js'
import { RecordingChannel } from '../helpers/recording-channel.js'

t.test('the console channel prints the recipient and the text', async (t) => {
  const lines: string[] = []
  const channel = new ConsoleChannel({ write: (chunk: string) => lines.push(chunk) })
  const first = await channel.send({ to: '+15550000001', text: 'are you OK? (Y/N)' })
  const second = await channel.send({ to: '+15550000002', text: 'second' })
  t.same(lines, [
    '[kronus dev] text to +15550000001:\nare you OK? (Y/N)\n',
    '[kronus dev] text to +15550000002:\nsecond\n'
  ])
  t.not(first.messageId, second.messageId)
})

t.test('in dev mode texts go to the console, even when an SMS plugin asks to be the default', async (t) => {
  const sms = new RecordingChannel('fake-sms')
  const plugin = definePlugin({
    name: 'fake-sms',
    version: '1.0.0',
    register(kronus) {
      kronus.messaging.registerChannel(sms, { default: true })
    }
  })
  const dev = await buildKronus(t, { config: { dev: true, plugins: [plugin()] } as KronusConfigInput })
  t.equal(dev.messaging.defaultChannel?.name, 'console')
  t.equal(dev.messaging.channel('fake-sms'), sms, "the plugin's channel is registered all the same")

  const prod = await buildKronus(t, { config: { plugins: [plugin()] } })
  t.equal(prod.messaging.defaultChannel?.name, 'fake-sms')
  t.equal(prod.messaging.channel('console'), undefined, 'no console channel outside dev mode')
})

t.test('the console channel prints a call with what it says and its ref', async (t) => {
  const lines: string[] = []
  const channel = new ConsoleChannel({ write: (chunk: string) => lines.push(chunk) })
  const first = await channel.call({
    to: '+15550000003',
    say: 'Kronus alert: Bob said he is not OK.',
    prompt: 'Press 1 if you will check on Bob.',
    ref: 'alarm-contact:4'
  })
  const second = await channel.call({ to: '+15550000004', say: 'again', prompt: 'press 1', ref: 'alarm-contact:5' })
  t.same(lines, [
    '[kronus dev] call to +15550000003 (ref alarm-contact:4):\nKronus alert: Bob said he is not OK.\nPress 1 if you will check on Bob.\n',
    '[kronus dev] call to +15550000004 (ref alarm-contact:5):\nagain\npress 1\n'
  ])
  t.not(first.callId, second.callId)
})

t.test('in dev mode a queued call is printed and recorded as placed', async (t) => {
  const dev = await buildKronus(t, { config: { dev: true } as KronusConfigInput })
  const printed: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => (printed.push(String(chunk)), true)) as typeof process.stdout.write
  try {
    await dev.messaging.call({
      to: '+15550000005',
      say: 'Kronus alert',
      prompt: 'Press 1',
      ref: 'alarm-contact:6',
      userId: null
    })
    await dev.queue.drain()
  } finally {
    process.stdout.write = write
  }
  t.same(printed, ['[kronus dev] call to +15550000005 (ref alarm-contact:6):\nKronus alert\nPress 1\n'])
  t.match(
    (await dev.events.list({ type: 'call.placed' })).map((e) => e.payload),
    [{ to: '+15550000005', channel: 'console', callId: /^console-call-/, ref: 'alarm-contact:6' }]
  )
})
