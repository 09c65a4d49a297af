import { assertSelf, ok } from 'kronus'
import { type RouteFactory, USER_TAGS, webhookParams } from './params.js'

export const rotateSecret: RouteFactory = ({ endpoints }) => ({
  method: 'POST',
  path: '/v1/users/{uid}/webhooks/{id}/rotate_secret',
  options: {
    tags: USER_TAGS,
    description:
      'A new signing secret, shown this once; the old one keeps signing beside it for the overlap (24 hours by default)',
    validate: { params: webhookParams },
    handler: async (request) => {
      const { uid, id } = request.params as { uid: number; id: number }
      assertSelf(request, uid)
      return ok(await endpoints.rotateSecret(uid, id))
    }
  }
})
