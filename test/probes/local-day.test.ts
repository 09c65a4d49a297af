import t from 'tap'
import { localDayOf } from '../../src/probes/local-day.js'

t.test('the day and its end are those of the time zone, not UTC', async (t) => {
  // 03:00 UTC on the 6th is still the evening of the 5th in Toronto (UTC-5 in January).
  const toronto = localDayOf(Date.parse('2026-01-06T03:00:00Z'), 'America/Toronto')
  t.same(toronto, { date: '2026-01-05', endsAt: Date.parse('2026-01-06T05:00:00Z') })
  const utc = localDayOf(Date.parse('2026-01-06T03:00:00Z'), 'UTC')
  t.same(utc, { date: '2026-01-06', endsAt: Date.parse('2026-01-07T00:00:00Z') })
})

t.test('the last day of a month ends at the first of the next', async (t) => {
  t.same(localDayOf(Date.parse('2026-01-31T12:00:00Z'), 'UTC'), {
    date: '2026-01-31',
    endsAt: Date.parse('2026-02-01T00:00:00Z')
  })
  t.same(localDayOf(Date.parse('2026-12-31T23:59:59Z'), 'UTC'), {
    date: '2026-12-31',
    endsAt: Date.parse('2027-01-01T00:00:00Z')
  })
})

t.test('a day with a DST change is 23 or 25 hours long', async (t) => {
  const spring = localDayOf(Date.parse('2026-03-08T12:00:00Z'), 'America/Toronto')
  t.same(spring, { date: '2026-03-08', endsAt: Date.parse('2026-03-09T04:00:00Z') })
  const autumn = localDayOf(Date.parse('2026-11-01T12:00:00Z'), 'America/Toronto')
  t.same(autumn, { date: '2026-11-01', endsAt: Date.parse('2026-11-02T05:00:00Z') })
})
