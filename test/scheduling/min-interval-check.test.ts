import pino from 'pino'
import t from 'tap'
import { logSchedulesBelowMinInterval } from '../../src/scheduling/min-interval-check.js'
import { buildKronus } from '../helpers/app.js'
import { scheduledUser } from './helpers.js'

t.test('stored schedules firing more often than the limit keep working and are logged at start-up', async (t) => {
  // Set under a smaller limit, as a schedule stored before the limit existed.
  const kronus = await buildKronus(t, { config: { limits: { minCheckInIntervalMinutes: 5 } } })
  const often = await scheduledUser(kronus, { cron: '*/10 * * * *' })
  await scheduledUser(kronus, { cron: '0 18 * * *' })
  const logs: Array<Record<string, any>> = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  t.equal(await logSchedulesBelowMinInterval(kronus.knex, logger, 60), 1)
  t.match(logs, [
    {
      level: 40,
      cron: '*/10 * * * *',
      shortestGapMinutes: 10,
      limitMinutes: 60,
      users: 1,
      userIds: [often],
      msg: /more often than limits.minCheckInIntervalMinutes; they keep working/
    }
  ])
  t.equal(logs.length, 1, 'the daily schedule is not logged')
  t.ok(
    (await kronus.knex('probe_settings').where({ user_id: often }).first()).next_fire_at,
    'the schedule still has its next fire'
  )
})
