import Joi from 'joi'
import { clientAddressOf } from '../../access.js'
import { asPage, htmlResponse, RECORDED_PAGE, wantsJson } from '../../checkin-page.js'
import { errorDocs } from '../../docs.js'
import { ok } from '../../envelope.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'POST',
  path: '/c/{token}',
  options: {
    auth: false,
    tags: ['api', 'check-in link'],
    description:
      "Press a user's check-in link (the page's button, a phone shortcut or a home-automation ping; no body needed): answers their waiting check-in as OK, or else records proof of life, which answers their next scheduled check-in in advance if it comes within checkin_window_minutes. JSON when Accept is application/json ({ outcome: check_in_answered | proof_of_life }), the page otherwise. Rate-limited per address and per token.",
    plugins: errorDocs([404, 429], { 404: 'No such check-in link (or it was replaced or revoked)' }),
    validate: { params: Joi.object({ token: Joi.string().max(200).required() }) },
    // Whatever a shortcut sends is ignored: the press is the message.
    payload: { parse: false, maxBytes: 4096 },
    handler: (request, h) =>
      asPage(request, h, async () => {
        const { token } = request.params as { token: string }
        const outcome = await request.server.app.services.checkinLink.press(token, clientAddressOf(request))
        if (wantsJson(request)) return h.response(ok({ recorded: true, outcome }))
        return htmlResponse(h, RECORDED_PAGE)
      })
  }
})
