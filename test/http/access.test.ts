import t from 'tap'
import { buildKronus } from '../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../helpers/http.js'
import { protectedRoutes } from './protected-routes.js'

/*
 * Who may do what, per BEHAVIOUR.md: a user may read, change and delete only their own
 * record and sub-resources; an admin may also read and delete other users and read their
 * probes, but may neither read nor change their contacts nor PUT another user; listing
 * and creating users is for admins only.
 */

t.test('access matrix: self, another user and the admin on every protected route', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const other = await createUser(kronus, admin)

  for (const route of protectedRoutes) {
    for (const caller of ['self', 'other', 'admin'] as const) {
      // A fresh target per cell, so a successful DELETE cannot change the next cell.
      const user = await createUser(kronus, admin)
      const contact = await createContact(kronus, user)
      const token = { self: user.token, other: other.token, admin: admin.token }[caller]
      const res = await call(kronus, {
        method: route.method,
        url: route.url({ user, contactId: contact.id }),
        token,
        payload: route.payload?.()
      })
      t.equal(res.statusCode, route.expected[caller], `${route.name} as ${caller}: ${res.payload}`)
      t.equal(res.body?.success, res.statusCode < 400, `${route.name} as ${caller}: envelope success flag`)
      if (res.statusCode >= 400) t.match(res.body?.errors, [String], `${route.name} as ${caller}: errors listed`)
    }
  }
})

t.test('refused requests change nothing', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const victim = await createUser(kronus, admin)
  const attacker = await createUser(kronus, admin)
  const contact = await createContact(kronus, victim, { is_emergency_contact: true })

  await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${victim.id}`,
    token: admin.token,
    payload: { email: 'taken-over@example.com' }
  })
  await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${victim.id}/contacts/${contact.id}`,
    token: attacker.token,
    payload: { phone_number: '+19990000000' }
  })
  await call(kronus, { method: 'DELETE', url: `/v1/users/${victim.id}/contacts/${contact.id}`, token: admin.token })
  await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${victim.id}/probe_settings`,
    token: attacker.token,
    payload: { active: true }
  })
  await call(kronus, { method: 'DELETE', url: `/v1/users/${victim.id}`, token: attacker.token })

  const user = await call(kronus, { url: `/v1/users/${victim.id}`, token: victim.token })
  t.equal(user.body.data.email, victim.email)
  t.equal(user.body.data.probe_settings.active, false)
  const contacts = await call(kronus, { url: `/v1/users/${victim.id}/contacts`, token: victim.token })
  t.same(
    contacts.body.data.map((c: any) => c.phone_number),
    [contact.phone_number]
  )
})

t.test('a contact id of another user is not found under your own uid', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const alice = await createUser(kronus, admin)
  const bob = await createUser(kronus, admin)
  const bobsContact = await createContact(kronus, bob)

  const put = await call(kronus, {
    method: 'PUT',
    url: `/v1/users/${alice.id}/contacts/${bobsContact.id}`,
    token: alice.token,
    payload: { first_name: 'mine' }
  })
  t.equal(put.statusCode, 404)
  const del = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${alice.id}/contacts/${bobsContact.id}`,
    token: alice.token
  })
  t.equal(del.statusCode, 404)
  const list = await call(kronus, { url: `/v1/users/${bob.id}/contacts`, token: bob.token })
  t.same(
    list.body.data.map((c: any) => c.first_name),
    [bobsContact.first_name]
  )
})
