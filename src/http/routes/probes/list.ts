import { PROBE_STATUS_NAMES, type ProbeStatusName } from '../../../domain/constants.js'
import { ADMIN_AUTH } from '../../access.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { probeSchema, statusQuery } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/probes',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'probes'],
    description: "Every user's probes, newest first, optionally of one status (admin only)",
    validate: { query: pageQuery.keys({ status: statusQuery(PROBE_STATUS_NAMES) }) },
    response: { schema: pagedSchema(probeSchema, 'AllProbesList') },
    handler: async (request) => {
      const { status, page } = request.query as { status?: ProbeStatusName; page: number }
      return paged(await request.server.app.services.probes.list(status, page))
    }
  }
})
