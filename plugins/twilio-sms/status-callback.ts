import Boom from '@hapi/boom'
import type { ServerRoute } from '@hapi/hapi'
import { containsControlCharacter, type PluginContext } from 'kronus'
import { ACCOUNT_TWILIO_ERROR_CODES, deliveryErrorText } from './delivery-codes.js'
import { handleOnce } from './handled-once.js'
import { type FormFields, formIdentifier, signedTwilioForm } from './signed-form.js'

/** Where Twilio posts what became of each text Kronus sent (its StatusCallback). */
export const SMS_STATUS_PATH = '/webhook/sms/status'

/** SM... for a text, MM... for one with media: two letters and 32 hex digits. */
const TWILIO_MESSAGE_SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/

/** The outcomes Kronus records; Twilio's other statuses (queued, sending, sent...) are steps on the way. */
const FINAL_STATUSES = new Set(['delivered', 'undelivered', 'failed'])

export interface StatusCallbackOptions {
  authToken: string | undefined
  /** The channel the texts were sent through (their message_sends rows name it). */
  channel: string
  /** Where each (MessageSid, status) handled is kept, so a repeated callback records nothing. */
  handledChannel: string
}

function errorCodeOf(form: FormFields): number | null {
  const raw = form.ErrorCode
  if (raw === undefined || raw === '') return null
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw.trim())) {
    throw Boom.badRequest('ErrorCode must be a whole number')
  }
  return Number(raw.trim())
}

function errorMessageOf(form: FormFields): string | null {
  const raw = form.ErrorMessage
  if (typeof raw !== 'string' || raw.trim() === '' || containsControlCharacter(raw)) return null
  return raw.trim().slice(0, 200)
}

/**
 * POST /webhook/sms/status: Twilio's status callback for a text Kronus sent. `delivered`,
 * `undelivered` and `failed` become a delivery report (message.delivered or
 * message.undelivered, with the text's ref); every other status is acknowledged and
 * ignored. A callback Twilio repeats is recorded once: each (MessageSid, status) is
 * handled in one transaction with its record.
 */
export function statusCallbackRoute(kronus: PluginContext, options: StatusCallbackOptions): ServerRoute {
  return {
    method: 'POST',
    path: SMS_STATUS_PATH,
    options: {
      auth: false,
      description: "Twilio's delivery receipts for sent texts (signed with X-Twilio-Signature)",
      payload: { parse: true, allow: ['application/x-www-form-urlencoded'] },
      handler: async (request, h) => {
        const form = signedTwilioForm(kronus, request, options.authToken, SMS_STATUS_PATH)
        const messageId = formIdentifier(form, 'MessageSid')
        if (!TWILIO_MESSAGE_SID.test(messageId)) throw Boom.badRequest('MessageSid must be a Twilio message SID')
        const status = formIdentifier(form, 'MessageStatus').toLowerCase()
        if (!FINAL_STATUSES.has(status)) return h.response().code(204)
        const to = formIdentifier(form, 'To')
        const errorCode = errorCodeOf(form)
        const reportStatus = status as 'delivered' | 'undelivered' | 'failed'
        const error = reportStatus === 'delivered' ? null : deliveryErrorText(status, errorCode, errorMessageOf(form))

        const result = await handleOnce(
          {
            db: kronus.db,
            now: () => kronus.clock.now(),
            channel: options.handledChannel,
            messageId: `${messageId}:${status}`
          },
          async (trx) => {
            await kronus.messaging.deliveryReport(
              {
                channel: options.channel,
                messageId,
                to,
                status: reportStatus,
                errorCode,
                error,
                accountLevel: errorCode !== null && ACCOUNT_TWILIO_ERROR_CODES.has(errorCode)
              },
              trx
            )
            return { userId: null, reply: null }
          }
        )
        if (result.duplicate) kronus.logger.info({ messageId, status }, 'status callback repeated; recorded once')
        else if (error) kronus.logger.warn({ messageId, to, errorCode }, `text not delivered: ${error}`)
        return h.response().code(204)
      }
    }
  }
}
