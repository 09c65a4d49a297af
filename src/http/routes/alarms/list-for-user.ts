import type { AlarmStatus } from '../../../services/alarms-read.js'
import { ALARM_STATUSES } from '../../../services/alarms-read.js'
import { assertSelfOrAdmin } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { alarmSchema, statusQuery, uidParams } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users/{uid}/alarms',
  options: {
    tags: ['api', 'alarms'],
    description:
      "A user's alarms, newest first, each with its contacts and their state and its timeline (yourself; an admin may read anyone's, also a deleted user's). Duress alarms are listed to admins only: someone may be making the user look.",
    plugins: errorDocs([400, 401, 403, 404], {
      403: "Another user's alarms, and the caller is not an admin",
      404: 'No such user, and no alarm of that user id'
    }),
    validate: { params: uidParams, query: pageQuery.keys({ status: statusQuery(ALARM_STATUSES) }) },
    response: { schema: pagedSchema(alarmSchema, 'AlarmList') },
    handler: async (request) => {
      const { uid } = request.params as { uid: number }
      const actor = assertSelfOrAdmin(request, uid)
      const { status, page } = request.query as { status?: AlarmStatus; page: number }
      return paged(await request.server.app.services.alarms.listForUser(uid, status, page, undefined, !actor.isAdmin))
    }
  }
})
