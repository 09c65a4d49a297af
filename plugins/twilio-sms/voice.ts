import Boom from '@hapi/boom'
import type { ServerRoute } from '@hapi/hapi'
import { containsControlCharacter, type PluginContext } from 'kronus'
import { formIdentifier, optionalIdentifier, signedTwilioForm } from './signed-form.js'
import { TWIML_CONTENT_TYPE, voiceSayTwiml } from './twiml.js'

/** Where a call's key press is posted (its Gather action), with `?ref=<the call's ref>`. */
export const VOICE_GATHER_PATH = '/webhook/voice/gather'
/** Where Twilio posts how a call ended (its StatusCallback). */
export const VOICE_STATUS_PATH = '/webhook/voice/status'

/** As long as message_sends.ref, the longest ref a call can carry. */
const MAX_REF_LENGTH = 160

export interface VoiceWebhookOptions {
  authToken: string | undefined
  channel: string
}

/** The Gather action URL of a call with this ref (path and query; Twilio gets it under publicUrl). */
export function gatherPath(ref: string): string {
  return `${VOICE_GATHER_PATH}?ref=${encodeURIComponent(ref)}`
}

function refOf(query: Record<string, unknown>): string | null {
  const ref = query.ref
  if (ref === undefined) return null
  if (typeof ref !== 'string' || ref === '' || ref.length > MAX_REF_LENGTH || containsControlCharacter(ref)) {
    throw Boom.badRequest(`ref must be one text of 1 to ${MAX_REF_LENGTH} characters`)
  }
  return ref
}

/**
 * POST /webhook/voice/gather?ref=...: the key the person called pressed. Signed like the
 * SMS webhook (the ref is in the signed URL, so nobody can forge an acknowledgement);
 * Kronus's call-answer handlers get the digits with the ref, and what they answer is said
 * back before the call hangs up.
 */
export function voiceGatherRoute(kronus: PluginContext, options: VoiceWebhookOptions): ServerRoute {
  return {
    method: 'POST',
    path: VOICE_GATHER_PATH,
    options: {
      auth: false,
      description: 'Keys pressed during a Kronus voice call (Twilio Gather, signed); replies with voice TwiML',
      payload: { parse: true, allow: ['application/x-www-form-urlencoded'] },
      handler: async (request, h) => {
        const form = signedTwilioForm(kronus, request, options.authToken, VOICE_GATHER_PATH)
        const ref = refOf(request.query)
        const callId = formIdentifier(form, 'CallSid')
        const to = formIdentifier(form, 'To')
        const digits = formIdentifier(form, 'Digits')
        if (!/^[0-9*#]{1,20}$/.test(digits)) throw Boom.badRequest('Digits must be the keys pressed (0-9, * and #)')
        const said = await kronus.messaging.callAnswered({ channel: options.channel, to, callId, ref, digits })
        kronus.logger.info({ callId, ref, digits }, 'keys pressed during a call')
        return h
          .response(voiceSayTwiml(said ?? 'Thank you. Goodbye.'))
          .type(TWIML_CONTENT_TYPE)
          .code(200)
      }
    }
  }
}

/** Call statuses that mean nobody heard the call. */
const UNHEARD = new Set(['busy', 'no-answer', 'failed', 'canceled'])

/**
 * POST /webhook/voice/status: how a call ended, for the operator's log. A call nobody
 * answered needs nothing more here: whoever placed it waits for a key press, and moves on
 * when none comes.
 */
export function voiceStatusRoute(kronus: PluginContext, options: VoiceWebhookOptions): ServerRoute {
  return {
    method: 'POST',
    path: VOICE_STATUS_PATH,
    options: {
      auth: false,
      description: "Twilio's status callback for Kronus voice calls (signed); logged",
      payload: { parse: true, allow: ['application/x-www-form-urlencoded'] },
      handler: (request, h) => {
        const form = signedTwilioForm(kronus, request, options.authToken, VOICE_STATUS_PATH)
        const callId = formIdentifier(form, 'CallSid')
        const status = formIdentifier(form, 'CallStatus')
        const to = optionalIdentifier(form, 'To')
        if (UNHEARD.has(status)) kronus.logger.warn({ callId, to, status }, `call not answered: ${status}`)
        else kronus.logger.info({ callId, to, status }, `call ${status}`)
        return h.response().code(204)
      }
    }
  }
}
