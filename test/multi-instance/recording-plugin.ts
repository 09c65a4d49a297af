import Joi from 'joi'
import { definePlugin } from '../../src/index.js'
import type { MessagingChannel, OutgoingText } from '../../src/messaging/channel.js'

/*
 * The texts of a server process the test cannot reach into: a messaging channel that
 * writes every text it "sends" to a table of the shared schema, named by instance. With
 * `hangAfterSends` the channel stops answering after that many texts, as if the provider
 * call never returned; such texts are written to another table, so the test knows its
 * process died with exactly those texts in flight and none half-sent.
 */

export const SENT_TABLE = 'mi_sent_texts'
export const HUNG_TABLE = 'mi_hung_sends'

export interface RecordingOptions {
  instance: string
  hangAfterSends?: number | null
}

export const recordingChannel = definePlugin<RecordingOptions>({
  name: 'test-recording-channel',
  version: '1.0.0',
  options: Joi.object<RecordingOptions>({
    instance: Joi.string().required(),
    hangAfterSends: Joi.number().integer().min(0).allow(null).default(null)
  }),
  tables: [SENT_TABLE, HUNG_TABLE],
  register(kronus, options) {
    let sent = 0
    const channel: MessagingChannel = {
      name: 'recording',
      async send(message: OutgoingText) {
        if (options.hangAfterSends !== null && options.hangAfterSends !== undefined && sent >= options.hangAfterSends) {
          await kronus.db.table(HUNG_TABLE).insert({ instance: options.instance, to_number: message.to, body: message.text })
          return new Promise<never>(() => undefined)
        }
        sent += 1
        await kronus.db.table(SENT_TABLE).insert({ instance: options.instance, to_number: message.to, body: message.text, sent_at: Date.now() })
        return { messageId: `${options.instance}-${sent}` }
      }
    }
    // Registered after twilio-sms, whose webhook the test posts replies to: texts go out here instead.
    kronus.messaging.registerChannel(channel, { default: true })
  }
})
