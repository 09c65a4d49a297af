import t from 'tap'
import { buildKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'
import { insertAlarm, schemaError } from './fixtures.js'

const MINUTE = 60_000

t.test("a user's alarms come newest first, each with its contacts, their state and its timeline", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const ann = await createContact(kronus, user, { is_emergency_contact: true })
  const other = await createUser(kronus, admin)
  const t0 = kronus.clock.now()

  const older = await insertAlarm(kronus.knex, {
    user: { id: user.id, name: 'Bob Smith', phone_number: user.phone_number },
    trigger: 'no_answer',
    status: 'resolved',
    resolved_reason: 'user_ok',
    resolved_by: 'Bob Smith',
    resolved_at: t0 + 30 * MINUTE,
    created_at: t0,
    contacts: [
      { contact_id: ann.id, name: 'Ann Lee', phone_number: ann.phone_number, state: 'delivered', alerted_at: t0 }
    ],
    timeline: [
      { kind: 'raised', at: t0 },
      { kind: 'resolved', detail: 'Bob Smith answered OK', at: t0 + 30 * MINUTE }
    ]
  })
  const newer = await insertAlarm(kronus.knex, {
    user: { id: user.id, name: 'Bob Smith', phone_number: user.phone_number },
    probe_id: null,
    trigger: 'distress',
    quote: 'I fell',
    code: '42',
    status: 'acknowledged',
    mode: 'ordered',
    step_minutes: 5,
    repeats: 2,
    voice_calls: true,
    step: 1,
    repeats_sent: 1,
    acknowledged_by_index: 1,
    acknowledged_at: t0 + 70 * MINUTE,
    created_at: t0 + 60 * MINUTE,
    contacts: [
      {
        contact_id: ann.id,
        name: 'Ann Lee',
        phone_number: ann.phone_number,
        state: 'undelivered',
        error_code: 30006,
        error: 'landline or unreachable carrier',
        texts_sent: 1,
        calls_placed: 1,
        alerted_at: t0 + 60 * MINUTE
      },
      {
        contact_id: null,
        name: 'Cy Young',
        phone_number: '+15550009999',
        state: 'acknowledged',
        texts_sent: 2,
        alerted_at: t0 + 65 * MINUTE,
        acknowledged_at: t0 + 70 * MINUTE
      },
      { name: 'Di Ross', phone_number: '+15550008888', state: 'waiting' }
    ],
    timeline: [
      { kind: 'raised', detail: 'I fell', at: t0 + 60 * MINUTE },
      { kind: 'alerted', contact: 0, at: t0 + 60 * MINUTE },
      { kind: 'undelivered', contact: 0, detail: '30006', at: t0 + 61 * MINUTE },
      { kind: 'escalated', contact: 1, at: t0 + 65 * MINUTE },
      { kind: 'acknowledged', contact: 1, at: t0 + 70 * MINUTE }
    ]
  })
  await insertAlarm(kronus.knex, { user: { id: other.id }, created_at: t0 + 90 * MINUTE })

  for (const token of [user.token, admin.token]) {
    const url = `/v1/users/${user.id}/alarms`
    const res = await call(kronus, { url, token })
    t.equal(res.statusCode, 200)
    t.error(schemaError(kronus, 'GET', url, res), 'the body matches the documented schema')
    t.same(res.body.paging, { total: 2, page: 1, pages: 1 })
    t.same(
      res.body.data.map((a: any) => a.id),
      [newer.id, older.id],
      "newest first, and only this user's"
    )
    t.strictSame(res.body.data[0], {
      id: newer.id,
      user: { id: user.id, name: 'Bob Smith', phone_number: user.phone_number },
      trigger: 'distress',
      quote: 'I fell',
      code: '42',
      status: 'acknowledged',
      probe_id: null,
      escalation: { mode: 'ordered', step_minutes: 5, repeats: 2, voice_calls: true },
      step: 1,
      repeats_sent: 1,
      exhausted_at: null,
      acknowledged_by: { alarm_contact_id: newer.contactIds[1], contact_id: null, name: 'Cy Young' },
      acknowledged_at: '2026-01-05T13:10:00.000Z',
      resolved_reason: null,
      resolved_by: null,
      resolved_at: null,
      created_at: '2026-01-05T13:00:00.000Z',
      updated_at: '2026-01-05T13:00:00.000Z',
      contacts: [
        {
          id: newer.contactIds[0],
          contact_id: ann.id,
          name: 'Ann Lee',
          phone_number: ann.phone_number,
          position: 0,
          state: 'undelivered',
          error_code: 30006,
          error: 'landline or unreachable carrier',
          texts_sent: 1,
          calls_placed: 1,
          alerted_at: '2026-01-05T13:00:00.000Z',
          acknowledged_at: null,
          updated_at: '2026-01-05T13:00:00.000Z'
        },
        {
          id: newer.contactIds[1],
          contact_id: null,
          name: 'Cy Young',
          phone_number: '+15550009999',
          position: 1,
          state: 'acknowledged',
          error_code: null,
          error: null,
          texts_sent: 2,
          calls_placed: 0,
          alerted_at: '2026-01-05T13:05:00.000Z',
          acknowledged_at: '2026-01-05T13:10:00.000Z',
          updated_at: '2026-01-05T13:00:00.000Z'
        },
        {
          id: newer.contactIds[2],
          contact_id: null,
          name: 'Di Ross',
          phone_number: '+15550008888',
          position: 2,
          state: 'waiting',
          error_code: null,
          error: null,
          texts_sent: 0,
          calls_placed: 0,
          alerted_at: null,
          acknowledged_at: null,
          updated_at: '2026-01-05T13:00:00.000Z'
        }
      ],
      timeline: [
        { kind: 'raised', alarm_contact_id: null, detail: 'I fell', created_at: '2026-01-05T13:00:00.000Z' },
        {
          kind: 'alerted',
          alarm_contact_id: newer.contactIds[0],
          detail: null,
          created_at: '2026-01-05T13:00:00.000Z'
        },
        {
          kind: 'undelivered',
          alarm_contact_id: newer.contactIds[0],
          detail: '30006',
          created_at: '2026-01-05T13:01:00.000Z'
        },
        {
          kind: 'escalated',
          alarm_contact_id: newer.contactIds[1],
          detail: null,
          created_at: '2026-01-05T13:05:00.000Z'
        },
        {
          kind: 'acknowledged',
          alarm_contact_id: newer.contactIds[1],
          detail: null,
          created_at: '2026-01-05T13:10:00.000Z'
        }
      ].map((entry, i) => ({ id: res.body.data[0].timeline[i].id, ...entry }))
    })
    t.match(res.body.data[1], {
      id: older.id,
      trigger: 'no_answer',
      quote: null,
      status: 'resolved',
      escalation: { mode: 'all', step_minutes: 10, repeats: 3, voice_calls: false },
      acknowledged_by: null,
      resolved_reason: 'user_ok',
      resolved_by: 'Bob Smith',
      resolved_at: '2026-01-05T12:30:00.000Z',
      contacts: [{ name: 'Ann Lee', state: 'delivered' }],
      timeline: [{ kind: 'raised' }, { kind: 'resolved', detail: 'Bob Smith answered OK' }]
    })
    const ids = res.body.data[0].timeline.map((e: any) => e.id)
    t.same(
      ids,
      [...ids].sort((a: number, b: number) => a - b),
      'the timeline in the order it happened'
    )
  }

  const acknowledged = await call(kronus, { url: `/v1/users/${user.id}/alarms?status=acknowledged`, token: user.token })
  t.same(
    acknowledged.body.data.map((a: any) => a.id),
    [newer.id]
  )
  t.same(acknowledged.body.paging, { total: 1, page: 1, pages: 1 })
  const open = await call(kronus, { url: `/v1/users/${user.id}/alarms?status=open`, token: user.token })
  t.same(open.body, { success: true, data: [], paging: { total: 0, page: 1, pages: 1 } })
})

t.test("acknowledged_by naming a contact's own id is still shown by name", async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const ann = await createContact(kronus, admin, { is_emergency_contact: true })
  const alarm = await insertAlarm(kronus.knex, {
    user: { id: admin.id },
    status: 'acknowledged',
    created_at: kronus.clock.now(),
    contacts: [{ contact_id: ann.id + 1000, name: 'Ann Lee', phone_number: ann.phone_number, state: 'acknowledged' }]
  })
  await kronus
    .knex('alarms')
    .where({ id: alarm.id })
    .update({ acknowledged_by: ann.id + 1000 })
  const res = await call(kronus, { url: `/v1/users/${admin.id}/alarms`, token: admin.token })
  t.same(res.body.data[0].acknowledged_by, {
    alarm_contact_id: alarm.contactIds[0],
    contact_id: ann.id + 1000,
    name: 'Ann Lee'
  })
})

t.test('who may read whose alarms; a deleted user keeps theirs for the admin', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const other = await createUser(kronus, admin)
  const alarm = await insertAlarm(kronus.knex, {
    user: { id: user.id },
    status: 'resolved',
    created_at: kronus.clock.now()
  })
  const url = `/v1/users/${user.id}/alarms`
  t.equal((await call(kronus, { url, token: other.token })).statusCode, 403, 'another user')
  t.equal((await call(kronus, { url })).statusCode, 401, 'no token')
  t.equal((await call(kronus, { url: `${url}?status=lost`, token: user.token })).statusCode, 400)
  const badStatus = await call(kronus, { url: `${url}?status=lost`, token: user.token })
  t.match(badStatus.body.errors[0], /status.*open, acknowledged, resolved/)
  t.equal((await call(kronus, { url: `${url}?page=0`, token: user.token })).statusCode, 400)
  t.equal((await call(kronus, { url: '/v1/users/999999/alarms', token: admin.token })).statusCode, 404)

  t.equal((await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}`, token: admin.token })).statusCode, 200)
  const after = await call(kronus, { url, token: admin.token })
  t.equal(after.statusCode, 200, "a deleted user's alarms are still there for the admin")
  t.same(
    after.body.data.map((a: any) => a.id),
    [alarm.id]
  )
  t.equal((await call(kronus, { url, token: user.token })).statusCode, 401, "the deleted user's token is refused")
})

t.test('alarms are paged 100 at a time', async (t) => {
  const kronus = await buildKronus(t)
  const admin = await createAdmin(kronus)
  const rows = Array.from({ length: 101 }, (_, i) => ({
    user_id: admin.id,
    user_name: 'Admin',
    user_phone: admin.phone_number,
    trigger: 'panic',
    code: String(100 + i),
    status: 'resolved',
    mode: 'all',
    step_minutes: 10,
    repeats: 3,
    voice_calls: false,
    created_at: kronus.clock.now() + i,
    updated_at: kronus.clock.now() + i
  }))
  await kronus.knex.batchInsert('alarms', rows, 50)
  const first = await call(kronus, { url: `/v1/users/${admin.id}/alarms`, token: admin.token })
  t.equal(first.body.data.length, 100)
  t.same(first.body.paging, { total: 101, page: 1, pages: 2 })
  t.equal(first.body.data[0].code, '200', 'the newest first')
  const second = await call(kronus, { url: `/v1/users/${admin.id}/alarms?page=2`, token: admin.token })
  t.same(
    second.body.data.map((a: any) => a.code),
    ['100']
  )
  t.same(second.body.data[0].contacts, [])
  t.same(second.body.data[0].timeline, [])
})
