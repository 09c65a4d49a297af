import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'
import { insertAlarm } from '../alarms/fixtures.js'

t.test('deleting a user removes them with their contacts and settings', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  await createContact(kronus, user, { is_emergency_contact: true })
  const res = await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: user.token })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: null })
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 404)
  t.equal((await kronus.knex('contacts').where({ user_id: user.id })).length, 0)
  t.equal((await kronus.knex('probe_settings').where({ user_id: user.id })).length, 0)
  t.equal(
    (await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })).statusCode,
    401,
    'their token stops working'
  )
})

t.test('the admin deletes another user; an unknown id is a 404', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 404)
})

t.test('the only admin cannot delete themselves while other users depend on them', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const refused = await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}`, token: admin.token })
  t.equal(refused.statusCode, 409)
  t.match(refused.body.errors[0], /admin/)
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}`, token: admin.token })).statusCode,
    200,
    'alone, the admin may go'
  )
})

t.test('a user with an alarm not resolved is kept (409 naming the alarm) unless force=true', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const contact = await createContact(kronus, user, { is_emergency_contact: true })
  const now = kronus.clock.now()
  const alarm = await insertAlarm(kronus.knex, {
    user: { id: user.id, name: 'Bob Smith', phone_number: user.phone_number },
    code: '42',
    status: 'open',
    created_at: now,
    contacts: [{ contact_id: contact.id, name: 'Ann Lee', phone_number: contact.phone_number, state: 'sent' }],
    timeline: [{ kind: 'raised', at: now }]
  })

  for (const [who, token] of [
    ['the user', user.token],
    ['the admin', admin.token]
  ] as const) {
    for (const query of ['', '?force=false']) {
      const refused = await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}${query}`, token })
      t.equal(refused.statusCode, 409, `${who}${query}`)
      t.equal(
        refused.body.errors[0],
        `user ${user.id} has an open alarm (alarm ${alarm.id}, code 42, raised 2026-01-05T12:00:00.000Z): ` +
          'it ends when the user texts OK or a contact texts SAFE 42; to delete the user anyway, use ?force=true ' +
          '(the alarm is kept and its escalation goes on)'
      )
    }
  }
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: user.token })).statusCode, 200, 'still there')

  await kronus.knex('alarms').where({ id: alarm.id }).update({ status: 'acknowledged' })
  const acknowledged = await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: user.token })
  t.equal(acknowledged.statusCode, 409, 'an acknowledged alarm is not over either')
  t.match(acknowledged.body.errors[0], /has an acknowledged alarm/)

  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}?force=maybe`, token: user.token })).statusCode,
    400,
    'force must be a boolean'
  )

  const forced = await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}?force=true`, token: admin.token })
  t.equal(forced.statusCode, 200)
  t.same(forced.body, { success: true, data: null })
  t.equal((await call(kronus, { url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 404, 'the user is gone')
  t.equal((await kronus.knex('contacts').where({ user_id: user.id })).length, 0, 'with their contacts')

  const kept = await kronus.knex('alarms').where({ id: alarm.id }).first()
  t.match(kept, { user_id: user.id, user_name: 'Bob Smith', status: 'acknowledged' }, 'the alarm stays')
  t.equal((await kronus.knex('alarm_contacts').where({ alarm_id: alarm.id })).length, 1, 'with its contacts')
  t.equal((await kronus.knex('alarm_timeline').where({ alarm_id: alarm.id })).length, 1, 'and its timeline')
  const listed = await call(kronus, { url: `/v1/alarms`, token: admin.token })
  t.same(
    listed.body.data.map((a: any) => [a.id, a.user.name]),
    [[alarm.id, 'Bob Smith']],
    'the admin still sees it'
  )
})

t.test("resolved alarms do not hold a deletion; other users' alarms do not either", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const other = await createUser(kronus, admin)
  const now = kronus.clock.now()
  await insertAlarm(kronus.knex, { user: { id: user.id }, status: 'resolved', created_at: now })
  await insertAlarm(kronus.knex, { user: { id: other.id }, status: 'open', created_at: now })
  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: user.token })).statusCode, 200)
  t.equal((await kronus.knex('alarms')).length, 2, 'alarms are never deleted with the user')
})
