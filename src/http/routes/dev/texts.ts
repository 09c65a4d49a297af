import Joi from 'joi'
import { DEV_TEXTS_LIMIT } from '../../../services/dev-texts.js'
import { assertLoopbackCaller } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { envelopeSchema, ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/dev/texts',
  options: {
    auth: false,
    tags: ['api', 'dev'],
    description:
      'Dev mode only (kronus server --dev; 404 otherwise), for callers on this machine, no token: the texts and calls ' +
      `Kronus sent (printed by the dev channel), oldest first, at most ${DEV_TEXTS_LIMIT} after the id \`after\`; poll with the last id`,
    plugins: errorDocs([400, 403], { 403: 'The caller is not on this machine, or came through a proxy' }),
    validate: {
      query: Joi.object({
        after: Joi.number().integer().min(0).default(0).description('Only what came after this id (0: from the start)')
      })
    },
    response: {
      schema: envelopeSchema(
        Joi.array().items(
          Joi.object({
            id: Joi.number().integer(),
            to: Joi.string(),
            body: Joi.string().allow(''),
            kind: Joi.string().valid('sms', 'call'),
            at: Joi.string().isoDate()
          }).label('DevText')
        ),
        'DevTextsResponse'
      )
    },
    handler: async (request) => {
      assertLoopbackCaller(request)
      const { after } = request.query as { after: number }
      return ok(await request.server.app.services.devTexts.after(after))
    }
  }
})
