import { ADMIN_AUTH } from '../../access.js'
import { errorDocs } from '../../docs.js'
import { paged, pagedSchema, pageQuery } from '../../envelope.js'
import { userSchema } from '../../schemas.js'
import { defineRoute } from '../../types.js'

export default defineRoute({
  method: 'GET',
  path: '/v1/users',
  options: {
    auth: ADMIN_AUTH,
    tags: ['api', 'users'],
    description: 'List users, 100 a page (admin only)',
    plugins: errorDocs([400, 401, 403], { 403: 'Only an admin may list users' }),
    validate: { query: pageQuery },
    response: { schema: pagedSchema(userSchema, 'UserList') },
    handler: async (request) => {
      const { page } = request.query as { page: number }
      return paged(await request.server.app.services.users.list(page))
    }
  }
})
