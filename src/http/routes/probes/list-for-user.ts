import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { probeSchema, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}/probes',
  options: {
    tags: ['api', 'probes'],
    description:
      "A user's probes, newest first, with status and any emergency alert (yourself; an admin may read anyone's). Whom a duress alarm alerted is shown to admins only.",
    plugins: errorDocs([400, 401, 403, 404], {
      403: "Another user's probes, and the caller is not an admin",
      404: 'No such user'
    }),
    validate: { params: uidParams, query: pageQuery },
    response: { schema: pagedSchema(probeSchema, 'ProbeList') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      const actor = assertSelfOrAdmin(request, uid)
      const { page } = request.query as { page: number }
      // A duress alarm is never shown to its user: their probe reads as a plain OK.
      return paged(await request.server.app.services.probes.listForUser(uid, page, undefined, !actor.isAdmin))
    }
  }
})
