import t from 'tap'
import { alarmsOf, buildScenario, checkIn, emergencyContactOf, text, textsTo, turnCheckInsOn } from './harness.js'

/*
 * Alarm codes ("Reply OK 42") are short while few alarms are open and grow as they fill:
 * a mass outage, with every check-in unanswered at once, must still raise every alarm
 * with a code the contacts can answer.
 */

/** Unresolved alarms of another user holding every code from `low` to `high - 1`. */
async function holdCodes(s: Awaited<ReturnType<typeof buildScenario>>, low: number, high: number): Promise<void> {
  const now = s.kronus.clock.now()
  const rows = Array.from({ length: high - low }, (_, i) => ({
    user_id: s.user.id + 1000,
    user_name: 'Someone Else',
    user_phone: '+15550009999',
    probe_id: null,
    trigger: 'no_answer',
    code: String(low + i),
    open_code: String(low + i),
    status: 'open',
    mode: 'all',
    step_minutes: 10,
    repeats: 3,
    voice_calls: false,
    step: 0,
    repeats_sent: 0,
    created_at: now,
    updated_at: now
  }))
  await s.kronus.knex.batchInsert('alarms', rows, 500)
}

t.test(
  'with every code of two to five digits held by open alarms, a new alarm gets six digits and is answered by them',
  async (t) => {
    const s = await buildScenario(t)
    const mary = await emergencyContactOf(s, 'Mary')
    await turnCheckInsOn(s)
    await holdCodes(s, 10, 100_000)
    await checkIn(s)
    t.equal(await text(s, s.user.phone_number, 'No.'), 'We are alerting your emergency contacts now.')
    const [alarm] = await alarmsOf(s)
    t.match(alarm.code, /^\d{6}$/)
    t.equal(alarm.open_code, alarm.code)
    const [alert] = textsTo(s, mary.phone_number)
    t.match(alert, `Reply OK ${alarm.code} if you will check on Ada`)

    await text(s, mary.phone_number, `OK ${alarm.code}`)
    const [answered] = await alarmsOf(s)
    t.equal(answered.status, 'acknowledged', 'the six-digit code was understood')
  }
)

t.test('a new code is never one an unresolved alarm holds, and is as short as the free codes allow', async (t) => {
  const s = await buildScenario(t)
  await emergencyContactOf(s, 'Mary')
  await turnCheckInsOn(s)
  // Every two-digit code but 99, and every three-digit code.
  await holdCodes(s, 10, 99)
  await holdCodes(s, 100, 1000)
  await checkIn(s)
  await text(s, s.user.phone_number, 'No.')
  const [alarm] = await alarmsOf(s)
  t.match(
    alarm.code,
    /^(99|\d{4})$/,
    'the free two-digit code, or four digits once the draws found two and three taken'
  )
})
