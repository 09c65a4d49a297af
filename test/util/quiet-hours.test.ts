import t from 'tap'
import {
  afterQuietHours,
  describeWhen,
  followUpDueAt,
  quietHoursOf,
  quietPeriodAt
} from '../../src/util/quiet-hours.js'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number | null | undefined) => (ms == null ? ms : new Date(ms).toISOString())
const MINUTE = 60_000
const night = { start: '22:00', end: '07:00' }

t.test('quiet hours that cross midnight hold from the start until the end the next morning', async (t) => {
  const zone = 'America/Toronto' // UTC-5 in January
  t.equal(quietPeriodAt(at('2026-01-06T02:59:00Z'), night, zone), null, '21:59 is before them')
  t.same(quietPeriodAt(at('2026-01-06T03:00:00Z'), night, zone), {
    start: at('2026-01-06T03:00:00Z'),
    end: at('2026-01-06T12:00:00Z')
  })
  t.equal(iso(afterQuietHours(at('2026-01-06T08:00:00Z'), night, zone)), '2026-01-06T12:00:00.000Z', '03:00 → 07:00')
  t.equal(afterQuietHours(at('2026-01-06T12:00:00Z'), night, zone), at('2026-01-06T12:00:00Z'), '07:00 is after them')
  t.equal(afterQuietHours(at('2026-01-06T08:00:00Z'), null, zone), at('2026-01-06T08:00:00Z'), 'no quiet hours')
})

t.test('quiet hours within one day', async (t) => {
  const lunch = { start: '12:00', end: '13:30' }
  t.equal(iso(afterQuietHours(at('2026-01-05T12:10:00Z'), lunch, 'UTC')), '2026-01-05T13:30:00.000Z')
  t.equal(quietPeriodAt(at('2026-01-05T11:59:00Z'), lunch, 'UTC'), null)
  t.equal(quietPeriodAt(at('2026-01-05T13:30:00Z'), lunch, 'UTC'), null)
})

t.test('across DST changes the quiet night is as long as the clocks say', async (t) => {
  const zone = 'Europe/London'
  // Spring forward, Sunday 2026-03-29 01:00 GMT → 02:00 BST: the night of the 28th is 8 hours.
  t.same(quietPeriodAt(at('2026-03-29T03:00:00Z'), night, zone), {
    start: at('2026-03-28T22:00:00Z'),
    end: at('2026-03-29T06:00:00Z')
  })
  // Fall back, Sunday 2026-10-25 02:00 BST → 01:00 GMT: the night of the 24th is 10 hours.
  t.same(quietPeriodAt(at('2026-10-25T01:30:00Z'), night, zone), {
    start: at('2026-10-24T21:00:00Z'),
    end: at('2026-10-25T07:00:00Z')
  })
  // Quiet hours ending in the skipped hour end when the clocks jump.
  t.same(quietPeriodAt(at('2026-03-29T00:30:00Z'), { start: '00:00', end: '01:30' }, zone), {
    start: at('2026-03-29T00:00:00Z'),
    end: at('2026-03-29T01:00:00Z')
  })
})

t.test('a follow-up wait does not run in quiet hours: the part inside them is served after', async (t) => {
  const wait = 15 * MINUTE
  t.equal(iso(followUpDueAt(at('2026-01-05T21:50:00Z'), wait, night, 'UTC')), '2026-01-06T07:05:00.000Z')
  t.equal(iso(followUpDueAt(at('2026-01-05T23:00:00Z'), wait, night, 'UTC')), '2026-01-06T07:15:00.000Z')
  t.equal(iso(followUpDueAt(at('2026-01-05T21:00:00Z'), wait, night, 'UTC')), '2026-01-05T21:15:00.000Z')
  t.equal(iso(followUpDueAt(at('2026-01-05T21:50:00Z'), wait, null, 'UTC')), '2026-01-05T22:05:00.000Z')
})

t.test('the REST shape and the words of a time', async (t) => {
  t.same(quietHoursOf({ quiet_hours_start: '22:00', quiet_hours_end: '07:00' }), night)
  t.equal(quietHoursOf({ quiet_hours_start: null, quiet_hours_end: null }), null)
  const now = at('2026-01-05T12:00:00Z')
  t.equal(describeWhen(at('2026-01-05T18:00:00Z'), now, 'UTC'), 'today at 18:00')
  t.equal(describeWhen(at('2026-01-06T07:00:00Z'), now, 'UTC'), 'tomorrow at 07:00')
  t.equal(describeWhen(at('2026-01-10T18:00:00Z'), now, 'UTC'), 'on Sat 10 Jan 2026 at 18:00')
  t.equal(describeWhen(at('2026-01-06T01:00:00Z'), now, 'America/Toronto'), 'today at 20:00', "in the user's zone")
})
