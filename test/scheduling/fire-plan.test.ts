import t from 'tap'
import { planFire } from '../../src/scheduling/fire-plan.js'

const HOUR = 3600_000
const at = (iso: string) => Date.parse(iso)

t.test('a fire found on time is sent, and the next one is after now', async (t) => {
  t.same(
    planFire({
      schedule: '0 18 * * *',
      timeZone: 'UTC',
      dueAt: at('2026-01-05T18:00:00Z'),
      now: at('2026-01-05T18:00:04Z'),
      graceMs: HOUR
    }),
    {
      fireAt: at('2026-01-05T18:00:00Z'),
      nextFireAt: at('2026-01-06T18:00:00Z')
    }
  )
})

t.test('a fire missed by less than the grace is sent once', async (t) => {
  t.same(
    planFire({
      schedule: '0 18 * * *',
      timeZone: 'UTC',
      dueAt: at('2026-01-05T18:00:00Z'),
      now: at('2026-01-05T19:00:00Z'),
      graceMs: HOUR
    }),
    {
      fireAt: at('2026-01-05T18:00:00Z'),
      nextFireAt: at('2026-01-06T18:00:00Z')
    },
    'exactly the grace is still in time'
  )
})

t.test('a fire older than the grace is not sent', async (t) => {
  t.same(
    planFire({
      schedule: '0 18 * * *',
      timeZone: 'UTC',
      dueAt: at('2026-01-05T18:00:00Z'),
      now: at('2026-01-05T19:00:00.001Z'),
      graceMs: HOUR
    }),
    {
      fireAt: null,
      nextFireAt: at('2026-01-06T18:00:00Z')
    }
  )
})

t.test('several missed fires give one: the latest, if it is recent enough', async (t) => {
  t.same(
    planFire({
      schedule: '*/10 * * * *',
      timeZone: 'UTC',
      dueAt: at('2026-01-05T12:10:00Z'),
      now: at('2026-01-05T14:05:00Z'),
      graceMs: HOUR
    }),
    {
      fireAt: at('2026-01-05T14:00:00Z'),
      nextFireAt: at('2026-01-05T14:10:00Z')
    }
  )
  t.same(
    planFire({
      schedule: '0 * * * *',
      timeZone: 'UTC',
      dueAt: at('2026-01-01T00:00:00Z'),
      now: at('2026-03-01T00:30:00Z'),
      graceMs: HOUR
    }),
    {
      fireAt: at('2026-03-01T00:00:00Z'),
      nextFireAt: at('2026-03-01T01:00:00Z')
    },
    'two months down: one fire'
  )
  t.same(
    planFire({
      schedule: '0 9 * * 1',
      timeZone: 'UTC',
      dueAt: at('2026-01-05T09:00:00Z'),
      now: at('2026-01-20T09:30:00Z'),
      graceMs: 0
    }),
    {
      fireAt: null,
      nextFireAt: at('2026-01-26T09:00:00Z')
    },
    'no grace: every missed fire is skipped'
  )
})

t.test('a fire in a skipped local hour is due when the clocks jump', async (t) => {
  // 2026-03-08 02:00 EST jumps to 03:00 EDT at 07:00Z.
  t.same(
    planFire({
      schedule: '30 2 * * *',
      timeZone: 'America/Toronto',
      dueAt: at('2026-03-08T07:00:00Z'),
      now: at('2026-03-08T07:00:00Z'),
      graceMs: HOUR
    }),
    {
      fireAt: at('2026-03-08T07:00:00Z'),
      nextFireAt: at('2026-03-09T06:30:00Z')
    }
  )
})

t.test(
  'with no grace limit (plugin schedules) the latest missed fire is made up, however long ago the first was missed',
  async (t) => {
    t.same(
      planFire({
        schedule: '* * * * *',
        timeZone: 'UTC',
        dueAt: at('2025-01-05T12:00:00Z'),
        now: at('2026-01-05T12:00:30Z'),
        graceMs: Infinity
      }),
      {
        fireAt: at('2026-01-05T12:00:00Z'),
        nextFireAt: at('2026-01-05T12:01:00Z')
      },
      'a year down, every minute: one fire, the latest'
    )
    t.same(
      planFire({
        schedule: '0 3 1 * *',
        timeZone: 'Europe/Paris',
        dueAt: at('2025-11-01T02:00:00Z'),
        now: at('2026-01-20T09:00:00Z'),
        graceMs: Infinity
      }),
      {
        fireAt: at('2026-01-01T02:00:00Z'),
        nextFireAt: at('2026-02-01T02:00:00Z')
      },
      'monthly: the last one before now, weeks old'
    )
    t.same(
      planFire({
        schedule: '0 3 1 * *',
        timeZone: 'Europe/Paris',
        dueAt: at('2026-01-01T02:00:00Z'),
        now: at('2026-01-20T09:00:00Z'),
        graceMs: HOUR
      }),
      {
        fireAt: null,
        nextFireAt: at('2026-02-01T02:00:00Z')
      },
      'the same fire with a one-hour window is skipped'
    )
  }
)
