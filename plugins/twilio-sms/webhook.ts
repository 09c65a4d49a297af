import type { ServerRoute } from '@hapi/hapi'
import { type InboundResult, type PluginContext, stripControlCharacters } from 'kronus'
import { handleOnce } from './handled-once.js'
import { formField, formIdentifier, signedTwilioForm } from './signed-form.js'
import { emptyTwimlReply, TWIML_CONTENT_TYPE, twimlReply } from './twiml.js'

/** Where a Twilio Messaging Service posts inbound texts; fixed by the first Kronus. */
export const SMS_WEBHOOK_PATH = '/webhook/sms'

/**
 * An inbound text as the webhook hands it to Kronus (and POST /dev/sms, in dev mode): once
 * per MessageSid, through every inbound handler, in one transaction.
 */
export function receiveSms(
  kronus: PluginContext,
  channel: string,
  sms: { from: string; text: string; messageId: string }
): Promise<InboundResult & { duplicate: boolean }> {
  return handleOnce({ db: kronus.db, now: () => kronus.clock.now(), channel, messageId: sms.messageId }, (trx) =>
    kronus.messaging.receive({ from: sms.from, text: sms.text, channel, messageId: sms.messageId }, trx)
  )
}

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

        const result = await receiveSms(kronus, options.channel, { from, text, messageId })
        if (result.duplicate) kronus.logger.info({ messageId }, 'SMS webhook retried; answered with the first reply')
        // A sender who is no user gets a reply only from the alarm engine (an emergency contact's answer).
        const body = !result.reply ? emptyTwimlReply() : twimlReply(result.reply)
        return h.response(body).type(TWIML_CONTENT_TYPE).code(200)
      }
    }
  }
}
