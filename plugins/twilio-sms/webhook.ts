import type { ServerRoute } from '@hapi/hapi'
import { type PluginContext, stripControlCharacters } from 'kronus'
import { formField, formIdentifier, signedTwilioForm } from './signed-form.js'
import { type ReceivedResult, type ReceivedSms, receiveSmsBatch, SmsGatherer } from './sms-gatherer.js'
import { emptyTwimlReply, TWIML_CONTENT_TYPE, twimlReply } from './twiml.js'

/** Where a Twilio Messaging Service posts inbound texts; fixed by the first Kronus. */
export const SMS_WEBHOOK_PATH = '/webhook/sms'

/**
 * An inbound text as POST /dev/sms hands it to Kronus, in dev mode: as the webhook's, once
 * per MessageSid, through every inbound handler, in one transaction.
 */
export async function receiveSms(kronus: PluginContext, channel: string, sms: ReceivedSms): Promise<ReceivedResult> {
  const [result] = await receiveSmsBatch(kronus, channel, [sms])
  return result!
}

/**
 * The most texts the webhook handles in one transaction, and the most such batches at once.
 * One at a time makes the next batch gather every text that came meanwhile: measured with
 * 32 posters on 2k replies, one batch at a time served 465 a second on PostgreSQL and 564 on
 * SQLCipher, two at a time 357 and 526 (docs/BENCHMARKS.md).
 */
const WEBHOOK_BATCH = { maxBatch: 100, concurrency: 1 }

export interface SmsWebhookOptions {
  /** Signs every webhook; without it every request is refused. */
  authToken: string | undefined
  /** The name inbound texts are recorded under (the Twilio channel's name). */
  channel: string
}

/**
 * POST /webhook/sms: Twilio's form post of an inbound text. The signature is checked
 * before anything is read, so an unsigned caller learns nothing; a known sender's text
 * goes through Kronus's inbound handlers and their answer is the TwiML reply; an unknown
 * sender gets the alarm engine's answer (an emergency contact's OK) or an empty <Response/>. A MessageSid seen before gets the first reply again.
 */
export function smsWebhookRoute(kronus: PluginContext, options: SmsWebhookOptions): ServerRoute {
  const gatherer = new SmsGatherer({
    ...WEBHOOK_BATCH,
    receiveBatch: (texts) => receiveSmsBatch(kronus, options.channel, texts),
    onBatchFailed: (err, texts) =>
      kronus.logger.warn({ err, texts }, 'a batch of inbound texts failed; each is handled again on its own')
  })
  return {
    method: 'POST',
    path: SMS_WEBHOOK_PATH,
    options: {
      auth: false,
      description: 'Inbound text messages from Twilio (signed with X-Twilio-Signature); replies with TwiML',
      payload: { parse: true, allow: ['application/x-www-form-urlencoded'] },
      handler: async (request, h) => {
        const form = signedTwilioForm(kronus, request, options.authToken, SMS_WEBHOOK_PATH)
        const from = formIdentifier(form, 'From')
        // A picture without words has an empty Body. A reply is kept without its control
        // characters rather than refused: Twilio would retry a refusal, and the reply be lost.
        const text = stripControlCharacters(formField(form, 'Body', { allowEmpty: true }))
        const messageId = formIdentifier(form, 'MessageSid')

        // Requests that come while others are handled are gathered into one transaction.
        const result = await gatherer.receive({ from, text, messageId })
        if (result.duplicate) kronus.logger.info({ messageId }, 'SMS webhook retried; answered with the first reply')
        // A sender who is no user gets a reply only from the alarm engine (an emergency contact's answer).
        const body = !result.reply ? emptyTwimlReply() : twimlReply(result.reply)
        return h.response(body).type(TWIML_CONTENT_TYPE).code(200)
      }
    }
  }
}
