import type { AlarmStatus } from '../../../services/alarms-read.js'
import { ALARM_STATUSES } from '../../../services/alarms-read.js'
import { ADMIN_AUTH } from '../../access.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { alarmSchema, statusQuery } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/alarms',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'alarms'],
    description:
      "Every user's alarms, newest first, optionally of one status: open, acknowledged, resolved (admin only)",
    validate: { query: pageQuery.keys({ status: statusQuery(ALARM_STATUSES) }) },
    response: { schema: pagedSchema(alarmSchema, 'AllAlarmsList') },
    handler: async (request) => {
      const { status, page } = request.query as { status?: AlarmStatus; page: number }
      return paged(await request.server.app.services.alarms.list(status, page))
    }
  }
})
