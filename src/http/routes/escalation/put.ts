import Joi from 'joi'
import { DURESS_WORD_LENGTH } from '../../../alarms/duress.js'
import { ESCALATION_BOUNDS, ESCALATION_MODES, type EscalationPatch } from '../../../services/escalation.js'
import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { escalationSchema, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

const { step_minutes: stepMinutes, repeats } = ESCALATION_BOUNDS

export default defineRoute({
  method: 'PUT',
  path: '/v1/users/{uid}/escalation',
  options: {
    tags: ['api', 'alarms'],
    description:
      'Set how your alarms escalate: mode (all | ordered), step_minutes, repeats, voice_calls; fields left out keep their value. Alarms already raised keep the settings they were raised with. duress_word (write-only, kept hashed, never shown or logged; null removes it): replying with it to a check-in answers exactly like Y and silently alerts your emergency contacts.',
    plugins: errorDocs([400, 401, 403, 413], { 403: 'Not your settings' }),
    validate: {
      params: uidParams,
      payload: Joi.object({
        mode: Joi.string()
          .valid(...ESCALATION_MODES)
          .messages({ 'any.only': `{{#label}} must be one of ${ESCALATION_MODES.join(', ')}` })
          .description('all: every emergency contact at once; ordered: one more contact each step'),
        step_minutes: Joi.number()
          .integer()
          .min(stepMinutes.min)
          .max(stepMinutes.max)
          .description('Minutes to wait for an acknowledgement before the next step or a reminder'),
        repeats: Joi.number()
          .integer()
          .min(repeats.min)
          .max(repeats.max)
          .description('Reminders to contacts who have not acknowledged'),
        voice_calls: Joi.boolean().strict().description('Call a contact whose text was undelivered or went unanswered'),
        duress_word: Joi.string()
          .min(DURESS_WORD_LENGTH.min)
          .max(DURESS_WORD_LENGTH.max)
          .allow(null)
          .description(
            'Write-only. A word that answers a check-in like Y while silently alerting your emergency contacts (trigger duress); never a word Kronus already reads as an answer or a command. null removes it.'
          )
      })
        .options({ stripUnknown: true })
        .required()
    },
    response: { schema: envelopeSchema(escalationSchema, 'EscalationResponse') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      return ok(await request.server.app.services.escalation.update(uid, request.payload as EscalationPatch))
    }
  }
})
