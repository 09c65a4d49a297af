import type { ServerRoute } from '@hapi/hapi'
import Joi from 'joi'
import {
  assertLoopbackCaller,
  envelopeSchema,
  errorSchema,
  ok,
  type PluginContext,
  stripControlCharacters,
  textSchema
} from 'kronus'
import { messageSid } from './sms-cli.js'
import { receiveSms } from './webhook.js'

/** Dev mode's phone: a text "from" any number, without Twilio. */
export const DEV_SMS_PATH = '/dev/sms'
/** A text of ten SMS segments, as Twilio takes at most. */
const MAX_TEXT_LENGTH = 1600

/**
 * POST /dev/sms, registered in dev mode only: a text handled exactly as POST /webhook/sms
 * handles one from Twilio (receiveSms: once per MessageSid, every inbound handler, the
 * keywords), without the signature, for callers on this machine. The reply comes back as
 * a list, as `kronus sms` prints it; what Kronus sends later is at GET /dev/texts.
 */
export function devSmsRoute(kronus: PluginContext, channel: string): ServerRoute {
  return {
    method: 'POST',
    path: DEV_SMS_PATH,
    options: {
      auth: false,
      tags: ['api', 'dev'],
      description:
        'Dev mode only (kronus server --dev; 404 otherwise), for callers on this machine, no token: a text from `from`, ' +
        'handled exactly as an inbound text from Twilio; replies are what Kronus answers at once',
      plugins: {
        'hapi-swagger': {
          responses: {
            400: { description: 'from is not a phone number, or text is missing or too long', schema: errorSchema },
            403: { description: 'The caller is not on this machine, or came through a proxy', schema: errorSchema }
          }
        }
      },
      validate: {
        payload: Joi.object({
          from: textSchema
            .trim()
            .pattern(/^\+[1-9]\d{1,14}$/)
            .required()
            .messages({ 'string.pattern.base': '{{#label}} must be an E.164 phone number such as +12345678900' }),
          text: Joi.string().allow('').max(MAX_TEXT_LENGTH).required()
        })
      },
      response: {
        schema: envelopeSchema(
          Joi.object({ replies: Joi.array().items(Joi.string()) }).label('DevSmsReplies'),
          'DevSmsResponse'
        )
      },
      handler: async (request) => {
        assertLoopbackCaller(request)
        const { from, text } = request.payload as { from: string; text: string }
        // As the webhook does: control characters are dropped from a text, never refused.
        const result = await receiveSms(kronus, channel, {
          from,
          text: stripControlCharacters(text),
          messageId: messageSid()
        })
        return ok({ replies: result.reply ? [result.reply] : [] })
      }
    }
  }
}
