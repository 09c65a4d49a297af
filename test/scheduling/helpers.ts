import type { Knex } from 'knex'
import type { ProbeFirePayload } from '../../src/scheduling/probe-fire-job.js'
import type { TestKronus } from '../helpers/app.js'
import { agreedBeforeTheTest } from '../helpers/http.js'

let sequence = 0

export interface ScheduleInput {
  cron: string
  timeZone?: string | null
}

/**
 * A user with an emergency contact and probes turned on with `cron`. The first user of
 * a Kronus is its admin; the others are created by that admin.
 */
export async function scheduledUser(kronus: TestKronus, schedule: ScheduleInput): Promise<number> {
  const { users, contacts, probeSettings } = kronus.services
  sequence += 1
  const [{ n }] = (await kronus.knex('users').count({ n: '*' })) as Array<{ n: number | string }>
  const admin =
    Number(n) === 0 ? null : ((await kronus.knex('users').where({ role_id: 1 }).first('id')) as { id: number })
  const user = await users.create(
    {
      first_name: `sched${sequence}`,
      last_name: 'user',
      email: `sched${sequence}-${process.pid}@example.com`,
      phone_number: `+1777${String(sequence).padStart(7, '0')}`,
      password: 'secret-pw'
    },
    admin ? { userId: admin.id, isAdmin: true } : null
  )
  const contact = await contacts.create(user.id, {
    first_name: 'em',
    last_name: 'contact',
    phone_number: `+1668${String(sequence).padStart(7, '0')}`,
    is_emergency_contact: true
  })
  await agreedBeforeTheTest(kronus, contact)
  await probeSettings.update(user.id, {
    active: true,
    cron_expression: schedule.cron,
    time_zone: schedule.timeZone ?? null
  })
  return user.id
}

/** probe.fire jobs as (user, fire time) pairs, in the order they were enqueued. */
export async function probeFires(knex: Knex, userId?: number): Promise<ProbeFirePayload[]> {
  const query = knex('jobs').where({ name: 'probe.fire' }).orderBy('id').select('payload')
  if (userId !== undefined) query.where({ user_id: userId })
  return (await query).map((row: { payload: string }) => JSON.parse(row.payload))
}

export async function nextFireAt(knex: Knex, userId: number): Promise<number | null> {
  const row = await knex('probe_settings').where({ user_id: userId }).first('next_fire_at')
  return row?.next_fire_at === null || row?.next_fire_at === undefined ? null : Number(row.next_fire_at)
}
