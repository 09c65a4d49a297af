import t from 'tap'
import { CronSyntaxError } from '../../src/scheduling/cron.js'
import { describeCron } from '../../src/services/cron-description.js'

/* Each case: a cron as a person might write it, and the sentence they are shown. */
const cases: Array<[string, string, string]> = [
  // The common shapes.
  ['a daily time', '0 9 * * *', 'At 09:00, every day'],
  ['minutes past', '30 8 * * *', 'At 08:30, every day'],
  ['working days', '30 8 * * 1-5', 'At 08:30, Monday to Friday'],
  ['working days by name', '30 8 * * mon-fri', 'At 08:30, Monday to Friday'],
  ['names in any case', '30 8 * * MON-Fri', 'At 08:30, Monday to Friday'],
  ['one weekday', '0 18 * * 3', 'At 18:00, every Wednesday'],
  ['one weekday by name', '0 18 * * wed', 'At 18:00, every Wednesday'],
  ['the weekend, Sunday as 0', '0 10 * * 0,6', 'At 10:00, on Saturday and Sunday'],
  ['the weekend by name', '0 10 * * sat,sun', 'At 10:00, on Saturday and Sunday'],
  ['Sunday as 7', '0 10 * * 7', 'At 10:00, every Sunday'],
  ['a run through Sunday', '0 9 * * 5-7', 'At 09:00, Friday to Sunday'],
  ['a weekday list', '0 9 * * 1,3,5', 'At 09:00, on Monday, Wednesday and Friday'],
  ['a weekday list with a run', '0 9 * * 1,3-5', 'At 09:00, on Monday and Wednesday to Friday'],
  ['a weekday step', '0 9 * * */2', 'At 09:00, on Tuesday, Thursday, Saturday and Sunday'],
  ['every weekday written out', '0 9 * * 0-6', 'At 09:00, every day of the week'],
  ['a weekday step of 1 is every day', '0 18 * * */1', 'At 18:00, every day'],
  ['? is *', '0 9 ? * ?', 'At 09:00, every day'],
  ['several times a day', '0 8,12,18 * * *', 'At 08:00, 12:00 and 18:00, every day'],
  ['two times a day', '0 0,12 * * *', 'At 00:00 and 12:00, every day'],
  ['times with two minutes', '7,8 9,10 * * *', 'At 09:07, 09:08, 10:07 and 10:08, every day'],
  ['every 2 hours in a window', '0 8-20/2 * * 1-5', 'Every 2 hours, from 08:00 to 20:00, Monday to Friday'],
  ['every 3 hours', '0 */3 * * *', 'Every 3 hours, from 00:00 to 21:00, every day'],
  ['a step from a start value', '15 6/4 * * *', 'Every 4 hours, from 06:15 to 22:15, every day'],
  ['hourly in a window', '0 9-17 * * *', 'Every hour, from 09:00 to 17:00, every day'],
  ['hourly', '0 * * * *', 'Every hour, on the hour, every day'],
  ['hourly at a minute', '15 * * * *', 'Every hour, at 15 minutes past the hour, every day'],
  ['hourly at minute 1', '1 * * * *', 'Every hour, at 1 minute past the hour, every day'],
  // Minute fields that fire more than once an hour (a limit below 60 allows them).
  ['every minute', '* * * * *', 'Every minute, every day'],
  ['every 15 minutes', '*/15 * * * *', 'Every 15 minutes, every day'],
  ['every 15 minutes as a list', '0,15,30,45 * * * *', 'Every 15 minutes, every day'],
  ['every 30 minutes as a pair', '0,30 * * * *', 'Every 30 minutes, every day'],
  [
    'every 15 minutes from minute 5',
    '5/15 * * * *',
    'Every 15 minutes, at 5, 20, 35 and 50 minutes past the hour, every day'
  ],
  ['every 10 minutes in a window', '*/10 8-17 * * *', 'Every 10 minutes, from 08:00 to 17:50, every day'],
  ['every 15 minutes in one hour', '*/15 8 * * *', 'Every 15 minutes, from 08:00 to 08:45, every day'],
  ['a run of minutes in one hour', '0-10 8 * * *', 'Every minute, from 08:00 to 08:10, every day'],
  ['a stepped range of minutes in one hour', '0-30/10 8 * * *', 'Every 10 minutes, from 08:00 to 08:30, every day'],
  ['two minutes in one hour', '0,30 8 * * *', 'At 08:00 and 08:30, every day'],
  // The field-by-field reading of the rest.
  ['minutes with runs past every hour', '1,2,3,5 * * * *', 'At minutes 1 to 3 and 5 past every hour, every day'],
  [
    'stepped minutes past stepped hours',
    '5,7,9 1,5,9,13,17,21 * * *',
    'At every 2nd minute from 5 to 9 past every 4th hour from 1 to 21, every day'
  ],
  ['a minute past many hours', '0 0-5,7-23 * * *', 'At minute 0 past the hours 0 to 5 and 7 to 23, every day'],
  [
    'a range of minutes past a range of hours',
    '0-10 8-10 * * *',
    'At minutes 0 to 10 past the hours 8 to 10, every day'
  ],
  // Days of the month.
  ['the 1st', '0 9 1 * *', 'At 09:00, on the 1st of the month'],
  ['the 1st and 15th', '0 9 1,15 * *', 'At 09:00, on the 1st and the 15th of the month'],
  ['the 2nd, 3rd, 22nd', '0 9 2,3,22 * *', 'At 09:00, on the 2nd, the 3rd and the 22nd of the month'],
  ['the 11th to 13th', '0 9 11-13 * *', 'At 09:00, on the 11th to the 13th of the month'],
  ['every other day', '0 0 */2 * *', 'At 00:00, on every 2nd day of the month, from the 1st to the 31st'],
  ['every day of the month written out', '0 9 1-31 * *', 'At 09:00, on every day of the month'],
  // Both day fields restricted: either fires (Vixie cron).
  ['day of month or weekday', '0 9 1-7 * 1', 'At 09:00, on the 1st to the 7th of the month or every Monday'],
  // Months.
  ['a date', '0 0 25 12 *', 'At 00:00, on 25 December'],
  ['a date by name', '0 0 25 dec *', 'At 00:00, on 25 December'],
  ['a month range', '0 9 * 1-3 *', 'At 09:00, every day from January to March'],
  ['months by name', '0 9 * jan,jul *', 'At 09:00, every day in January and July'],
  ['a month step', '0 9 * */3 *', 'At 09:00, every day in every 3rd month from January to October'],
  ['a month with a weekday', '0 9 * 6-8 sat', 'At 09:00, every Saturday from June to August'],
  [
    'a day of evenly spaced months',
    '0 9 1 1,4,7,10 *',
    'At 09:00, on the 1st of the month in every 3rd month from January to October'
  ],
  ['a list of months', '0 9 * 1,2,12 *', 'At 09:00, every day in January, February and December'],
  // Macros.
  ['@daily', '@daily', 'At 00:00, every day'],
  ['@midnight', '@midnight', 'At 00:00, every day'],
  ['@hourly', '@hourly', 'Every hour, on the hour, every day'],
  ['@weekly', '@weekly', 'At 00:00, every Sunday'],
  ['@monthly', '@monthly', 'At 00:00, on the 1st of the month'],
  ['@yearly', '@yearly', 'At 00:00, on 1 January'],
  ['@annually', '@ANNUALLY', 'At 00:00, on 1 January'],
  ['spaces around', '  0   9 * *   * ', 'At 09:00, every day']
]

t.test('a cron in plain words', async (t) => {
  for (const [what, cron, words] of cases) t.equal(describeCron(cron), words, `${what}: ${cron}`)
})

t.test('a cron the engine cannot read has no description', async (t) => {
  for (const cron of ['', '0 9 * *', '60 9 * * *', '0 9 * * mon-', '0 9 30 2 *', '0 9 * * 8'])
    t.throws(() => describeCron(cron), CronSyntaxError, JSON.stringify(cron))
})
