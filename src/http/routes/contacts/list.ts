import { assertSelf } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { contactSchema, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}/contacts',
  options: {
    tags: ['api', 'contacts'],
    description: 'List your contacts, 100 a page',
    plugins: errorDocs([400, 401, 403], { 403: 'Only your own contacts may be read' }),
    validate: { params: uidParams, query: pageQuery },
    response: { schema: pagedSchema(contactSchema, 'ContactList') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      assertSelf(request, uid)
      const { page } = request.query as { page: number }
      return paged(await request.server.app.services.contacts.list(uid, page))
    }
  }
})
