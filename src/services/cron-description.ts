import { type CronSchedule, parseCron } from '../scheduling/cron.js'

/*
 * A five-field cron in plain English, for the person whose schedule it is. It reads the
 * values the one cron engine parsed (src/scheduling/cron.ts), not the text, so "*\/15" and
 * "0,15,30,45" read the same, and it cannot disagree with when the cron fires. Common
 * shapes get a sentence ("At 09:00, every day"); anything else a faithful field-by-field
 * reading. Day of month and day of week both restricted fire on either (Vixie cron), and
 * the sentence says "or".
 */

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
]
/** Every time of the day is listed ("At 08:00, 12:00 and 18:00") up to this many. */
const MAX_LISTED_TIMES = 12

/** How a field's values lie: all of them, evenly spaced, one run, or a list of single values and runs. */
type Shape =
  | { kind: 'all' }
  | { kind: 'step'; step: number; from: number; to: number }
  | { kind: 'range'; from: number; to: number }
  | { kind: 'list'; runs: Array<[number, number]> }

function shapeOf(values: number[], min: number, max: number, evenPairs = false): Shape {
  const first = values[0]!
  const last = values[values.length - 1]!
  const size = max - min + 1
  if (values.length === size) return { kind: 'all' }
  // Two values half a cycle apart (minutes 0 and 30) are every half cycle, when asked for.
  if (evenPairs && values.length === 2 && last - first === size / 2)
    return { kind: 'step', step: size / 2, from: first, to: last }
  if (values.length >= 3) {
    const step = values[1]! - first
    if (values.every((v, i) => v === first + i * step))
      return step === 1 ? { kind: 'range', from: first, to: last } : { kind: 'step', step, from: first, to: last }
  }
  // Runs of three or more consecutive values read as ranges, shorter ones as single values.
  const runs: Array<[number, number]> = []
  let start = first
  for (let i = 1; i <= values.length; i++) {
    const v = values[i]
    if (v !== undefined && v === values[i - 1]! + 1) continue
    const end = values[i - 1]!
    if (end - start >= 2) runs.push([start, end])
    else for (let x = start; x <= end; x++) runs.push([x, x])
    if (v !== undefined) start = v
  }
  return { kind: 'list', runs }
}

function sorted(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b)
}

/** "a", "a and b", "a, b and c". */
function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join('')
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`
}

function runsText(runs: Array<[number, number]>, name: (v: number) => string, to = ' to '): string {
  return joinWords(runs.map(([a, b]) => (a === b ? name(a) : `${name(a)}${to}${name(b)}`)))
}

function ordinal(n: number): string {
  const tens = n % 100
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${suffix}`
}

const two = (n: number) => String(n).padStart(2, '0')
const clock = (hour: number, minute: number) => `${two(hour)}:${two(minute)}`
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Whether evenly spaced values fill their whole cycle, as `*\/step` does (e.g. minutes 5, 20, 35, 50). */
function coversCycle(
  shape: Shape,
  min: number,
  max: number
): shape is { kind: 'step'; step: number; from: number; to: number } {
  return shape.kind === 'step' && shape.from - min < shape.step && shape.to + shape.step > max
}

/** The minute field on its own: "minute 5", "minutes 0 and 30", "every 10th minute from 5 to 45". */
function minutesField(minutes: number[]): string {
  const shape = shapeOf(minutes, 0, 59)
  switch (shape.kind) {
    case 'all':
      return 'every minute'
    case 'step':
      return `every ${ordinal(shape.step)} minute from ${shape.from} to ${shape.to}`
    case 'range':
      return `minutes ${shape.from} to ${shape.to}`
    case 'list':
      return `${minutes.length === 1 ? 'minute' : 'minutes'} ${runsText(shape.runs, String)}`
  }
}

/** The hour field on its own, after "past": "every hour", "the hours 8 to 17". */
function hoursField(hours: number[]): string {
  const shape = shapeOf(hours, 0, 23)
  switch (shape.kind) {
    case 'all':
      return 'every hour'
    case 'step':
      return `every ${ordinal(shape.step)} hour from ${shape.from} to ${shape.to}`
    case 'range':
      return `the hours ${shape.from} to ${shape.to}`
    case 'list':
      return `${hours.length === 1 ? 'the hour' : 'the hours'} ${runsText(shape.runs, String)}`
  }
}

function timePhrase(s: CronSchedule): string {
  const { minutes, hours } = s
  const minuteShape = shapeOf(minutes, 0, 59, true)
  const hourShape = shapeOf(hours, 0, 23)
  const firstHour = hours[0]!
  const lastHour = hours[hours.length - 1]!
  if (minutes.length === 1) {
    const m = minutes[0]!
    if (hourShape.kind === 'all')
      return m === 0 ? 'Every hour, on the hour' : `Every hour, at ${plural(m, 'minute')} past the hour`
    if (hourShape.kind === 'step')
      return `Every ${hourShape.step} hours, from ${clock(hourShape.from, m)} to ${clock(hourShape.to, m)}`
    if (hourShape.kind === 'range') return `Every hour, from ${clock(hourShape.from, m)} to ${clock(hourShape.to, m)}`
  }
  const everyFewMinutes = minuteShape.kind === 'all' || coversCycle(minuteShape, 0, 59)
  if (everyFewMinutes) {
    const every = minuteShape.kind === 'step' ? `Every ${minuteShape.step} minutes` : 'Every minute'
    const firstMinute = minutes[0]!
    const lastMinute = minutes[minutes.length - 1]!
    if (hourShape.kind === 'all')
      return firstMinute === 0 ? every : `${every}, at ${joinWords(minutes.map(String))} minutes past the hour`
    if ((hours.length === 1 && minutes.length >= 3) || hourShape.kind === 'range')
      return `${every}, from ${clock(firstHour, firstMinute)} to ${clock(lastHour, lastMinute)}`
  }
  // Within one hour, a run of minutes: "Every 5 minutes, from 08:00 to 08:30".
  if (hours.length === 1 && minutes.length >= 3 && (minuteShape.kind === 'range' || minuteShape.kind === 'step')) {
    const every = minuteShape.kind === 'step' ? `Every ${minuteShape.step} minutes` : 'Every minute'
    return `${every}, from ${clock(firstHour, minuteShape.from)} to ${clock(firstHour, minuteShape.to)}`
  }
  if (minutes.length * hours.length <= MAX_LISTED_TIMES) {
    const times = hours.flatMap((h) => minutes.map((m) => clock(h, m)))
    return `At ${joinWords(times)}`
  }
  return `At ${minutesField(minutes)} past ${hoursField(hours)}`
}

/** Days of the week, Monday first: "Monday to Friday", "every Sunday", "on Monday, Wednesday and Friday". */
function weekdaysPhrase(weekdays: Set<number>): string {
  // Sunday (0) goes last, so that Friday to Sunday is one run.
  const mondayFirst = sorted([...weekdays].map((d) => (d === 0 ? 7 : d)))
  const name = (d: number) => DAY_NAMES[d % 7]!
  if (mondayFirst.length === 7) return 'every day of the week'
  if (mondayFirst.length === 1) return `every ${name(mondayFirst[0]!)}`
  const shape = shapeOf(mondayFirst, 1, 7)
  if (shape.kind === 'range') return `${name(shape.from)} to ${name(shape.to)}`
  // Evenly spaced weekdays (Monday, Wednesday, Friday) read best as a list.
  const runs = shape.kind === 'list' ? shape.runs : mondayFirst.map((d): [number, number] => [d, d])
  return `on ${runsText(runs, name)}`
}

/** Days of the month: "on the 1st of the month", "on the 1st and 15th of the month". */
function daysOfMonthPhrase(days: Set<number>): string {
  const values = sorted(days)
  const shape = shapeOf(values, 1, 31)
  const day = (d: number) => `the ${ordinal(d)}`
  switch (shape.kind) {
    case 'all':
      return 'on every day of the month'
    case 'step':
      return `on every ${ordinal(shape.step)} day of the month, from ${day(shape.from)} to ${day(shape.to)}`
    case 'range':
      return `on ${day(shape.from)} to ${day(shape.to)} of the month`
    case 'list':
      return `on ${runsText(shape.runs, day)} of the month`
  }
}

/** Months, when not every month: "in January", "from January to March", "in every 3rd month from January to October". */
function monthsPhrase(months: Set<number>): string {
  const values = sorted(months)
  const shape = shapeOf(values, 1, 12)
  const name = (m: number) => MONTH_NAMES[m - 1]!
  switch (shape.kind) {
    case 'all':
      return ''
    case 'step':
      return ` in every ${ordinal(shape.step)} month from ${name(shape.from)} to ${name(shape.to)}`
    case 'range':
      return ` from ${name(shape.from)} to ${name(shape.to)}`
    case 'list':
      return ` in ${runsText(shape.runs, name)}`
  }
}

function dayPhrase(s: CronSchedule): string {
  // One day of one month reads as a date: "on 25 December".
  if (s.weekdaysStar && s.days.size === 1 && s.months.size === 1) {
    return `on ${[...s.days][0]} ${MONTH_NAMES[[...s.months][0]! - 1]}`
  }
  let days: string
  if (s.daysStar && s.weekdaysStar) days = 'every day'
  else if (s.daysStar) days = weekdaysPhrase(s.weekdays)
  else if (s.weekdaysStar) days = daysOfMonthPhrase(s.days)
  else days = `${daysOfMonthPhrase(s.days)} or ${weekdaysPhrase(s.weekdays)}`
  return `${days}${monthsPhrase(s.months)}`
}

/** The cron in plain English, e.g. "At 09:00, every day". Throws CronSyntaxError for a cron the engine cannot read. */
export function describeCron(expression: string): string {
  const schedule = parseCron(expression)
  return `${timePhrase(schedule)}, ${dayPhrase(schedule)}`
}
