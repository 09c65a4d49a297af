import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import {
  FIRST_ADMIN_REMINDER_INTERVAL_MS,
  FIRST_ADMIN_WARNING,
  FirstAdminReminder
} from '../../src/services/first-admin-reminder.js'
import { buildKronus } from '../helpers/app.js'
import { createAdmin } from '../helpers/http.js'

function capturingLogger() {
  const warnings: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().trim().split('\n')) {
        const entry = JSON.parse(line)
        if (entry.level === 40) warnings.push(entry.msg)
      }
      done()
    }
  })
  return { logger: pino({ level: 'info' }, sink), warnings }
}

/** A repeat the test fires by hand: one "hour" passes per call of `hour()`, which waits for the check. */
function manualRepeat() {
  const state = { intervalMs: 0, task: undefined as (() => Promise<void>) | undefined, cancelled: false }
  return {
    state,
    repeat: (ms: number, task: () => Promise<void>) => {
      state.intervalMs = ms
      state.task = task
      return () => {
        state.cancelled = true
      }
    },
    hour: async () => {
      await state.task?.()
    }
  }
}

const flushed = () => new Promise((resolve) => setImmediate(resolve))

t.test('while no user exists the warning is logged at start and every hour, naming the CLI command', async (t) => {
  const kronus = await buildKronus(t)
  const { logger, warnings } = capturingLogger()
  const clock = manualRepeat()
  const reminder = new FirstAdminReminder(kronus.services.users, logger, clock.repeat)
  await reminder.start()
  await flushed()
  t.same(warnings, [FIRST_ADMIN_WARNING], 'at start')
  t.match(FIRST_ADMIN_WARNING, /first account to sign up .* becomes the admin/)
  t.match(FIRST_ADMIN_WARNING, /`kronus user create --admin`/)
  t.equal(clock.state.intervalMs, FIRST_ADMIN_REMINDER_INTERVAL_MS)
  t.equal(FIRST_ADMIN_REMINDER_INTERVAL_MS, 3_600_000, 'every hour')
  await clock.hour()
  await flushed()
  t.equal(warnings.length, 2, 'an hour later, again')

  await createAdmin(kronus)
  await clock.hour()
  await flushed()
  t.equal(warnings.length, 2, 'once a user exists: silent')
  t.ok(clock.state.cancelled, 'and the hourly check ends')
})

t.test('with a user already there, nothing is logged and nothing repeats', async (t) => {
  const kronus = await buildKronus(t)
  await createAdmin(kronus)
  const { logger, warnings } = capturingLogger()
  const clock = manualRepeat()
  await new FirstAdminReminder(kronus.services.users, logger, clock.repeat).start()
  await flushed()
  t.same(warnings, [])
  t.equal(clock.state.task, undefined)
})
