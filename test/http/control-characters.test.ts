import t from 'tap'
import { buildKronus } from '../helpers/app.js'
import { call, createAdmin, createContact, createUser, uniqueContactInput, uniqueUserInput } from '../helpers/http.js'

/*
 * A NUL byte (which PostgreSQL refuses in a text column) or any other control character in
 * a text field is a 400 naming the field, on either database, and nothing is stored.
 */

const CONTROL = ['\u0000', '\u0007', '\u001b', '\n', '\u007f', '\u0085']

t.test('every text field of the core routes refuses control characters with a 400 naming it', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const contact = await createContact(kronus, user)
  const userFields = ['first_name', 'last_name', 'email', 'phone_number', 'password']
  const requests = [
    ...userFields.map((field) => ({
      method: 'POST',
      url: '/v1/users',
      token: admin.token,
      field,
      payload: uniqueUserInput()
    })),
    ...userFields.map((field) => ({
      method: 'PUT',
      url: `/v1/users/${user.id}`,
      token: user.token,
      field,
      payload: {}
    })),
    ...['first_name', 'last_name', 'email', 'phone_number'].flatMap((field) => [
      { method: 'POST', url: `/v1/users/${user.id}/contacts`, token: user.token, field, payload: uniqueContactInput() },
      { method: 'PUT', url: `/v1/users/${user.id}/contacts/${contact.id}`, token: user.token, field, payload: {} }
    ]),
    ...['cron_expression', 'time_zone'].map((field) => ({
      method: 'PUT',
      url: `/v1/users/${user.id}/probe_settings`,
      token: user.token,
      field,
      payload: { cron_expression: '0 18 * * 3', time_zone: 'Europe/Paris' }
    })),
    ...['email', 'password'].map((field) => ({
      method: 'POST',
      url: '/login',
      token: undefined,
      field,
      payload: { email: user.email, password: user.password }
    }))
  ]
  for (const { field, payload, ...request } of requests) {
    for (const control of CONTROL) {
      const value = `${String((payload as Record<string, unknown>)[field] ?? 'x')}${control}1`
      const res = await call(kronus, { ...request, payload: { ...payload, [field]: value } })
      const what = `${request.method} ${request.url} ${field} with U+${control.charCodeAt(0).toString(16).padStart(4, '0')}`
      t.equal(res.statusCode, 400, what)
      // Other rules of the field (an email's shape, say) may add their own words after it.
      t.match(res.body.errors?.[0], new RegExp(`^"${field}" must not contain control characters`), what)
    }
  }
  const type = await call(kronus, { url: '/v1/events?type=probe.started%00', token: admin.token })
  t.equal(type.statusCode, 400)
  t.same(type.body.errors, ['"type" must not contain control characters'])

  const stored = await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })
  t.equal(stored.body.data.first_name, user.record.first_name, 'nothing was changed')
  const users = await call(kronus, { url: '/v1/users', token: admin.token })
  t.equal(users.body.data.length, 2, 'no user was created')
})

t.test('text without control characters still passes, spaces and accents included', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const created = await call(kronus, {
    method: 'POST',
    url: '/v1/users',
    token: admin.token,
    payload: uniqueUserInput({ first_name: 'Zoë Ann', last_name: "O'Brien-Łukasz" })
  })
  t.equal(created.statusCode, 201)
  t.equal(created.body.data.first_name, 'Zoë Ann')
})
