import Joi from 'joi'
import { clientAddressOf } from '../../access.js'
import { asPage, CHECK_IN_PAGE, htmlResponse } from '../../checkin-page.js'
import { errorDocs } from '../../docs.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/c/{token}',
  options: {
    auth: false,
    tags: ['api', 'check-in link'],
    description:
      "A user's check-in link: a page with one button, I'm OK, that posts to the same URL. Needs no login: the secret token is the credential. Rate-limited per address and per token.",
    plugins: errorDocs([404, 429], { 404: 'No such check-in link (or it was replaced or revoked)' }),
    validate: { params: Joi.object({ token: Joi.string().max(200).required() }) },
    handler: (request, h) =>
      asPage(request, h, async () => {
        const { token } = request.params as { token: string }
        await request.server.app.services.checkinLink.check(token, clientAddressOf(request))
        return htmlResponse(h, CHECK_IN_PAGE)
      })
  }
})
