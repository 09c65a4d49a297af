import t, { type Test } from 'tap'
import { buildScenario, checkIn, text } from '../../../alarms/harness.js'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact } from '../../../helpers/http.js'

t.test('a user deletes a contact', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const contact = await createContact(kronus, admin)
  const res = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${contact.id}`,
    token: admin.token
  })
  t.equal(res.statusCode, 200)
  t.same(res.body, { success: true, data: null })
  const again = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${contact.id}`,
    token: admin.token
  })
  t.equal(again.statusCode, 404)
})

t.test('while probes are on, the last emergency contact cannot be deleted', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const emergency = await createContact(kronus, admin, { is_emergency_contact: true })
  const plain = await createContact(kronus, admin)
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: true }
      })
    ).statusCode,
    200
  )

  const refused = await call(kronus, {
    method: 'DELETE',
    url: `/v1/users/${admin.id}/contacts/${emergency.id}`,
    token: admin.token
  })
  t.equal(refused.statusCode, 403)
  t.match(refused.body.errors[0], /emergency contact/)
  t.equal(
    (await call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}/contacts/${plain.id}`, token: admin.token }))
      .statusCode,
    200,
    'other contacts may go'
  )

  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: false }
      })
    ).statusCode,
    200
  )
  t.equal(
    (
      await call(kronus, {
        method: 'DELETE',
        url: `/v1/users/${admin.id}/contacts/${emergency.id}`,
        token: admin.token
      })
    ).statusCode,
    200
  )
})

t.test('two simultaneous deletes cannot remove both emergency contacts while probes are on', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const a = await createContact(kronus, admin, { is_emergency_contact: true })
  const b = await createContact(kronus, admin, { is_emergency_contact: true })
  t.equal(
    (
      await call(kronus, {
        method: 'PUT',
        url: `/v1/users/${admin.id}/probe_settings`,
        token: admin.token,
        payload: { active: true }
      })
    ).statusCode,
    200
  )
  const codes = (
    await Promise.all(
      [a, b].map((c) =>
        call(kronus, { method: 'DELETE', url: `/v1/users/${admin.id}/contacts/${c.id}`, token: admin.token })
      )
    )
  ).map((r) => r.statusCode)
  t.same(codes.sort(), [200, 403])
  t.equal((await kronus.knex('contacts').where({ user_id: admin.id, is_emergency_contact: true })).length, 1)
})

/* The last emergency contact while something would alert them (probes off throughout). */

async function lastContactCase(t: Test) {
  const s = await buildScenario(t)
  const contact = await createContact(s.kronus, s.user, { is_emergency_contact: true })
  const attempt = async () => {
    const unmark = await call(s.kronus, {
      method: 'PUT',
      url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
      token: s.user.token,
      payload: { is_emergency_contact: false }
    })
    const del = await call(s.kronus, {
      method: 'DELETE',
      url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
      token: s.user.token
    })
    return { unmark, del }
  }
  return { s, contact, attempt }
}

t.test(
  'while a check-in waits, the last emergency contact cannot be deleted or unmarked: 409 saying why',
  async (t) => {
    const { s, attempt } = await lastContactCase(t)
    await checkIn(s)
    const { unmark, del } = await attempt()
    for (const res of [unmark, del]) {
      t.equal(res.statusCode, 409)
      t.match(res.body.errors[0], /last emergency contact and a check-in is waiting for an answer/)
    }
    await text(s, s.user.phone_number, 'Y')
    const after = await attempt()
    t.equal(after.unmark.statusCode, 200, 'once answered, with probes off, it may be unmarked')
    t.equal(after.del.statusCode, 200, 'and deleted')
  }
)

t.test('while an on-demand check-in waits for its time, the last emergency contact stays: 409', async (t) => {
  const { s, attempt } = await lastContactCase(t)
  const asked = await call(s.kronus, {
    method: 'POST',
    url: `/v1/users/${s.user.id}/probes`,
    token: s.user.token,
    payload: { in_minutes: 30 }
  })
  t.equal(asked.statusCode, 202)
  const { del } = await attempt()
  t.equal(del.statusCode, 409)
  t.match(del.body.errors[0], /an on-demand check-in is waiting for its time/)
})

t.test(
  'while an alarm is open, the last emergency contact cannot be deleted or unmarked: 409 saying why',
  async (t) => {
    const { s, attempt } = await lastContactCase(t)
    await text(s, s.user.phone_number, 'SOS')
    const { unmark, del } = await attempt()
    for (const res of [unmark, del]) {
      t.equal(res.statusCode, 409)
      t.match(res.body.errors[0], /last emergency contact and an alarm is open/)
    }
    await text(s, s.user.phone_number, 'OK')
    t.equal((await attempt()).del.statusCode, 200, 'once the alarm is over it may go')
  }
)

t.test('with another emergency contact, or nothing pending and probes off, the contact may go', async (t) => {
  const { s, contact } = await lastContactCase(t)
  await createContact(s.kronus, s.user, { is_emergency_contact: true })
  await checkIn(s)
  const del = await call(s.kronus, {
    method: 'DELETE',
    url: `/v1/users/${s.user.id}/contacts/${contact.id}`,
    token: s.user.token
  })
  t.equal(del.statusCode, 200, 'not the last one')
})
