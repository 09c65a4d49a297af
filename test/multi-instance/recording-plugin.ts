import Joi from 'joi'
import type { Knex } from 'knex'
import { definePlugin } from '../../src/index.js'
import type { MessagingChannel, OutgoingText } from '../../src/messaging/channel.js'

/*
 * The texts of a server process the test cannot reach into: a messaging channel that
 * writes every text it "sends" to a table of the shared schema, named by instance, with
 * the id it answers with; it reconciles as Twilio's does, by listing what it "sent" to a
 * number since a time. With `hangAfterSends` the channel stops answering after that many
 * texts, as if the provider call never returned: every other such text is first "accepted"
 * (written to the sent table, the case a crash used to send twice), the others never
 * reach the "provider". Hung texts are also written to another table, with which it was,
 * so the test knows what its process died with.
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
    let answered = 0
    let hung = 0
    const record = async (message: OutgoingText, trx?: Knex.Transaction) => {
      sent += 1
      const messageId = `${options.instance}-${sent}`
      await kronus.db.table(SENT_TABLE, trx).insert({
        instance: options.instance,
        to_number: message.to,
        body: message.text,
        message_id: messageId,
        sent_at: Date.now()
      })
      return messageId
    }
    const channel: MessagingChannel = {
      name: 'recording',
      async send(message: OutgoingText) {
        if (
          options.hangAfterSends !== null &&
          options.hangAfterSends !== undefined &&
          answered >= options.hangAfterSends
        ) {
          const accepted = hung % 2 === 0
          hung += 1
          // One transaction: a kill between the two writes would leave an accepted text the test cannot
          // tell from one handed over afterwards (the test checks, then kills; c may write in between).
          await kronus.db.transaction(async (trx) => {
            if (accepted) await record(message, trx)
            await kronus.db
              .table(HUNG_TABLE, trx)
              .insert({ instance: options.instance, to_number: message.to, body: message.text, accepted })
          })
          return new Promise<never>(() => undefined)
        }
        answered += 1
        return { messageId: await record(message) }
      },
      async reconcile(message: OutgoingText, since: number) {
        const rows: Array<{ message_id: string }> = await kronus.db
          .table(SENT_TABLE)
          .where({ to_number: message.to, body: message.text })
          .where('sent_at', '>=', since - 5 * 60_000)
          .orderBy('id', 'desc')
          .select('message_id')
        return rows.map((row) => row.message_id)
      }
    }
    // Registered after twilio-sms, whose webhook the test posts replies to: texts go out here instead.
    kronus.messaging.registerChannel(channel, { default: true })
  }
})
