import t from 'tap'
import { isValidCron, nextFireAfter, parseCron, shortestGapMinutes } from '../../src/scheduling/cron.js'

const TORONTO = 'America/Toronto'

function fires(expression: string, fromIso: string, count: number, tz = TORONTO): string[] {
  const out: string[] = []
  let t = Date.parse(fromIso)
  for (let i = 0; i < count; i++) {
    const next = nextFireAfter(expression, t, tz)
    if (next === null) break
    out.push(new Date(next).toISOString())
    t = next
  }
  return out
}

t.test('validates five-field expressions', async (t) => {
  for (const ok of [
    '0 18 * * 3',
    '0 18 * * */1',
    '*/15 * * * *',
    '0 9 * * mon-fri',
    '0 0 1 jan *',
    '5,35 8-10 * * 1,3,5',
    '@daily',
    '0 0 * * 7'
  ]) {
    t.ok(isValidCron(ok), ok)
  }
  for (const bad of [
    '',
    '* * * *',
    '* * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * * 13 *',
    '* * * * 8',
    'a b c d e',
    '*/0 * * * *',
    '5-1 * * * *',
    '0 0 30 2 *'
  ]) {
    t.notOk(isValidCron(bad), JSON.stringify(bad))
  }
  t.throws(
    () => parseCron('0 0 31 2 *'),
    { name: 'CronSyntaxError', message: /never fires/ },
    'a date that never comes is refused'
  )
})

t.test('fires at the local time in the configured zone', async (t) => {
  t.same(fires('0 18 * * 3', '2026-01-05T00:00:00Z', 2), ['2026-01-07T23:00:00.000Z', '2026-01-14T23:00:00.000Z'])
  t.same(fires('0 18 * * 3', '2026-01-05T00:00:00Z', 1, 'UTC'), ['2026-01-07T18:00:00.000Z'])
})

t.test('day-of-month and day-of-week restricted together match either (cron OR rule)', async (t) => {
  // 2026-03-01 is a Sunday; the 15th is also a Sunday, so use Mondays: 2, 9, 15(dom), 16.
  t.same(fires('0 12 15 * 1', '2026-03-01T00:00:00Z', 4, 'UTC'), [
    '2026-03-02T12:00:00.000Z',
    '2026-03-09T12:00:00.000Z',
    '2026-03-15T12:00:00.000Z',
    '2026-03-16T12:00:00.000Z'
  ])
})

t.test('spring forward: a skipped local time fires once, when the clocks jump', async (t) => {
  // 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z).
  t.same(fires('30 2 * * *', '2026-03-07T12:00:00Z', 3), [
    '2026-03-08T07:00:00.000Z',
    '2026-03-09T06:30:00.000Z',
    '2026-03-10T06:30:00.000Z'
  ])
  // Several skipped times collapse into a single fire at 03:00, which is also a time of its own.
  t.same(fires('*/20 * * * *', '2026-03-08T06:30:00Z', 4), [
    '2026-03-08T06:40:00.000Z',
    '2026-03-08T07:00:00.000Z',
    '2026-03-08T07:20:00.000Z',
    '2026-03-08T07:40:00.000Z'
  ])
})

t.test('fall back: a repeated local time fires once, at its first occurrence', async (t) => {
  // 2026-11-01 02:00 EDT goes back to 01:00 EST; 01:30 happens at 05:30Z and 06:30Z.
  t.same(fires('30 1 * * *', '2026-10-31T12:00:00Z', 3), [
    '2026-11-01T05:30:00.000Z',
    '2026-11-02T06:30:00.000Z',
    '2026-11-03T06:30:00.000Z'
  ])
  t.same(fires('0 * * * *', '2026-11-01T04:30:00Z', 3), [
    '2026-11-01T05:00:00.000Z',
    '2026-11-01T07:00:00.000Z',
    '2026-11-01T08:00:00.000Z'
  ])
})

t.test('shortestGapMinutes: the first two consecutive fires closer than the limit, over a week of fires', async (t) => {
  t.equal(shortestGapMinutes('* * * * *', 60), 1)
  t.equal(shortestGapMinutes('*/30 * * * *', 60), 30)
  t.equal(shortestGapMinutes('0 * * * *', 60), 60)
  t.equal(shortestGapMinutes('0 18 * * *', 60), 24 * 60)
  t.equal(shortestGapMinutes('0 9 * * 1-5', 60), 24 * 60, 'weekdays: a day apart at the closest')
  t.equal(shortestGapMinutes('0 9 * * 1', 60), 7 * 24 * 60, 'weekly')
  t.equal(shortestGapMinutes('0 9 1 1 *', 60), null, 'once a year: no second fire within the span')
  t.equal(shortestGapMinutes('0,45 8 * * *', 60), 45, 'a gap in one part of the day')
  t.equal(shortestGapMinutes('0 0,23 * * *', 60), 60, '23:00 to 00:00 across the turn of the day')
  t.equal(shortestGapMinutes('0,50 0,23 * * *', 15), 10, '23:50 to 00:00')
  t.equal(shortestGapMinutes('0,50 0,23 * * *', 60), 50, 'stops at the first gap under the limit')
  t.equal(shortestGapMinutes('*/20 * 31 * *', 60), 20, 'only on the 31st, still found')
})
