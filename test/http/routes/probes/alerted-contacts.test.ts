import t from 'tap'
import { PROBE_STATUS_ID } from '../../../../src/domain/constants.js'
import { buildKronus, type TestKronus } from '../../../helpers/app.js'
import { call, createAdmin, createContact, createUser } from '../../../helpers/http.js'
import { insertAlarm, schemaError } from '../alarms/fixtures.js'

async function insertProbe(kronus: TestKronus, userId: number, status: keyof typeof PROBE_STATUS_ID): Promise<number> {
  const now = kronus.clock.now()
  const [row] = await kronus
    .knex('probes')
    .insert({
      user_id: userId,
      probe_status_id: PROBE_STATUS_ID[status],
      last_response: status === 'bad' ? 'N' : '',
      retry_count: 0,
      max_retries: 3,
      wait_time_in_minutes: 60,
      origin: 'scheduled',
      created_at: now,
      updated_at: now
    })
    .returning('id')
  return Number(typeof row === 'object' ? row.id : row)
}

t.test('probe lists show every contact an alarm went to, and every contact of an older alert', async (t) => {
  const kronus = await buildKronus(t, { config: { auth: { accessTokenTtlMinutes: 24 * 60 } } })
  const admin = await createAdmin(kronus)
  const user = await createUser(kronus, admin)
  const ann = await createContact(kronus, user, { is_emergency_contact: true, first_name: 'Ann', last_name: 'Lee' })
  const cy = await createContact(kronus, user, { is_emergency_contact: true, first_name: 'Cy', last_name: 'Young' })
  const now = kronus.clock.now()

  // Before alarms: the emergency-contact plugin recorded one emergency_probes row per contact.
  const oldProbe = await insertProbe(kronus, user.id, 'unavailable')
  for (const contact of [ann, cy])
    await kronus
      .knex('emergency_probes')
      .insert({ probe_id: oldProbe, contact_id: contact.id, created_at: now, updated_at: now })
  // An alarm: three contacts in ordered mode, the third not alerted yet.
  kronus.clock.advanceMinutes(60)
  const alarmProbe = await insertProbe(kronus, user.id, 'bad')
  const alarm = await insertAlarm(kronus.knex, {
    user: { id: user.id },
    probe_id: alarmProbe,
    mode: 'ordered',
    created_at: kronus.clock.now(),
    contacts: [
      {
        contact_id: ann.id,
        name: 'Ann Lee',
        phone_number: ann.phone_number,
        state: 'acknowledged',
        alerted_at: now + 3_600_000
      },
      {
        contact_id: null,
        name: 'Old Friend',
        phone_number: '+15550007777',
        state: 'undelivered',
        alerted_at: now + 3_660_000
      },
      { contact_id: cy.id, name: 'Cy Young', phone_number: cy.phone_number, state: 'waiting' }
    ]
  })
  const quietProbe = await insertProbe(kronus, user.id, 'good')
  // Ann is deleted afterwards: the alarm keeps her as she was; the old alert can no longer name her.
  await call(kronus, { method: 'DELETE', url: `/v1/users/${user.id}/contacts/${ann.id}`, token: user.token })

  for (const url of [`/v1/users/${user.id}/probes`, '/v1/probes']) {
    const res = await call(kronus, { url, token: admin.token })
    t.equal(res.statusCode, 200, url)
    t.error(schemaError(kronus, 'GET', url, res), `${url}: the body matches the documented schema`)
    t.same(
      res.body.data.map((p: any) => p.id),
      [quietProbe, alarmProbe, oldProbe]
    )
    const [quiet, withAlarm, old] = res.body.data
    t.same(quiet.alerted_contacts, [], `${url}: nobody for a good probe`)
    t.equal(quiet.emergency_probe, null)
    t.strictSame(
      withAlarm.alerted_contacts,
      [
        {
          contact_id: ann.id,
          name: 'Ann Lee',
          phone_number: ann.phone_number,
          state: 'acknowledged',
          alarm_id: alarm.id,
          alerted_at: '2026-01-05T13:00:00.000Z'
        },
        {
          contact_id: null,
          name: 'Old Friend',
          phone_number: '+15550007777',
          state: 'undelivered',
          alarm_id: alarm.id,
          alerted_at: '2026-01-05T13:01:00.000Z'
        }
      ],
      `${url}: the alarm's alerted contacts in escalation order, not the one still waiting`
    )
    t.strictSame(
      old.alerted_contacts,
      [
        {
          contact_id: null,
          name: null,
          phone_number: null,
          state: null,
          alarm_id: null,
          alerted_at: '2026-01-05T12:00:00.000Z'
        },
        {
          contact_id: cy.id,
          name: 'Cy Young',
          phone_number: cy.phone_number,
          state: null,
          alarm_id: null,
          alerted_at: '2026-01-05T12:00:00.000Z'
        }
      ],
      `${url}: both contacts of an alert from before alarms`
    )
    t.match(old.emergency_probe, { probe_id: oldProbe }, `${url}: the old field is still there`)
  }
})
