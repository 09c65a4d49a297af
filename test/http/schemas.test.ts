import type Joi from 'joi'
import t from 'tap'
import { PROBE_STATUS_ID } from '../../src/domain/constants.js'
import { errorSchema } from '../../src/http/envelope.js'
import { buildKronus, type TestKronus } from '../helpers/app.js'
import {
  type ApiResponse,
  call,
  createAdmin,
  createContact,
  createUser,
  uniqueContactInput,
  uniqueUserInput
} from '../helpers/http.js'

/*
 * The OpenAPI document is generated from the route schemas; these checks make sure what
 * the routes send is what those schemas (and so /documentation) say, for successes and errors.
 */

function documentedSchema(kronus: TestKronus, method: string, url: string, statusCode: number): Joi.Schema | null {
  if (statusCode >= 400) return errorSchema
  const route = kronus.server.match(method.toLowerCase() as 'get', url.split('?')[0]!)
  if (!route) throw new Error(`no route for ${method} ${url}`)
  const response = route.settings.response as { status?: Record<number, Joi.Schema>; schema?: Joi.Schema | null }
  return response.status?.[statusCode] ?? response.schema ?? null
}

t.test('every seed route answers exactly as its documented schema says', async (t) => {
  const kronus = await buildKronus(t)
  const check = (what: string, method: string, url: string, res: ApiResponse, expected: number) => {
    t.equal(res.statusCode, expected, `${what}: status`)
    const schema = documentedSchema(kronus, method, url, res.statusCode)
    t.ok(schema, `${what}: a response schema is documented`)
    const { error } = schema!.validate(res.body, { presence: 'optional' })
    t.error(error, `${what}: body matches the documented schema`)
  }
  const send = async (
    what: string,
    expected: number,
    request: { method?: string; url: string; token?: string; payload?: unknown }
  ) => {
    const res = await call(kronus, request)
    check(what, request.method ?? 'GET', request.url, res, expected)
    return res
  }

  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await send('health', 200, { url: '/health' })
  await send('jwks', 200, { url: '/jwks' })
  await send('login', 200, { method: 'POST', url: '/login', payload: { email: user.email, password: user.password } })
  await send('create user', 201, { method: 'POST', url: '/v1/users', token: admin.token, payload: uniqueUserInput() })
  await send('list users', 200, { url: '/v1/users', token: admin.token })
  await send('get user', 200, { url: `/v1/users/${user.id}`, token: user.token })
  await send('update user', 200, {
    method: 'PUT',
    url: `/v1/users/${user.id}`,
    token: user.token,
    payload: { last_name: 'new' }
  })
  await send('create contact', 201, {
    method: 'POST',
    url: `/v1/users/${user.id}/contacts`,
    token: user.token,
    payload: uniqueContactInput({ is_emergency_contact: true })
  })
  const contact = await createContact(kronus, user)
  // One who agreed, so probes can be turned on below.
  await createContact(kronus, user, { is_emergency_contact: true })
  await send('list contacts', 200, { url: `/v1/users/${user.id}/contacts`, token: user.token })
  await send('update contact', 200, {
    method: 'PUT',
    url: `/v1/users/${user.id}/contacts/${contact.id}`,
    token: user.token,
    payload: { email: '' }
  })
  await send('probe settings', 200, {
    method: 'PUT',
    url: `/v1/users/${user.id}/probe_settings`,
    token: user.token,
    payload: { active: true, time_zone: 'Europe/Paris' }
  })
  const now = kronus.clock.now()
  await kronus.knex('probes').insert({
    user_id: user.id,
    probe_status_id: PROBE_STATUS_ID.good,
    last_response: 'y',
    retry_count: 0,
    max_retries: 3,
    wait_time_in_minutes: 60,
    origin: 'scheduled',
    created_at: now,
    updated_at: now
  })
  await send('list probes', 200, { url: `/v1/users/${user.id}/probes`, token: admin.token })
  await send('delete contact', 200, {
    method: 'DELETE',
    url: `/v1/users/${user.id}/contacts/${contact.id}`,
    token: user.token
  })
  await send('delete user', 200, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })

  // Errors: every one in the failure envelope.
  await send('401', 401, { url: `/v1/users/${admin.id}` })
  await send('403', 403, { url: '/v1/users', token: (await createUser(kronus, admin)).token })
  await send('404', 404, { url: '/v1/users/999', token: admin.token })
  await send('400', 400, { method: 'POST', url: '/v1/users', token: admin.token, payload: { first_name: '' } })
  await send('409', 409, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({ email: admin.email })
  })
})

t.test('the documented schemas refuse a password hash, so a leak cannot pass unnoticed', async (t) => {
  const kronus = await buildKronus(t)
  const schema = documentedSchema(kronus, 'GET', '/v1/users/1', 200)!
  const leaked = { success: true, data: { id: 1, first_name: 'a', password_hash: '$argon2id$...' } }
  t.ok(schema.validate(leaked).error)
})
