import { USER_STATES, type UserState } from '../../../services/user-status.js'
import { ADMIN_AUTH } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { statusQuery, userStatusWithUserSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/statuses',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'users'],
    description:
      "Every user's status (admin only), as GET /v1/users/{uid}/status shows it to an admin, with the user; " +
      'by user id, paged like GET /v1/users; `state` keeps one state',
    plugins: errorDocs([400, 401, 403]),
    validate: { query: pageQuery.keys({ state: statusQuery(USER_STATES) }) },
    response: { schema: pagedSchema(userStatusWithUserSchema, 'UserStatusList') },
    handler: async (request) => {
      const { state, page } = request.query as { state?: UserState; page: number }
      return paged(await request.server.app.services.userStatus.list(state, page))
    }
  }
})
