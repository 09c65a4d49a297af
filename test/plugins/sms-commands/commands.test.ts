import t from 'tap'
import { commandHelp, PROBE_FLAGS, parseCommand, usageText } from '../../../plugins/sms-commands/commands.js'

t.test('commands are recognised in any case and with spaces around', async (t) => {
  for (const text of ['ping', 'PING', ' Ping ']) t.same(parseCommand(text), { kind: 'ping' }, text)
  for (const text of ['usage', 'USAGE', 'help', 'Help']) t.same(parseCommand(text), { kind: 'usage' }, text)
})

t.test('anything else is no command and passes on', async (t) => {
  for (const text of [
    'Y',
    'n',
    'yes',
    'no',
    'maybe',
    '',
    '   ',
    'pingpong',
    'constructor',
    '__proto__',
    'toString',
    'please ping'
  ]) {
    t.equal(parseCommand(text), null, JSON.stringify(text))
  }
})

t.test('probe takes defaults of 5 minutes, 3 follow-ups and 10 minutes between them', async (t) => {
  t.same(parseCommand('probe'), { kind: 'probe', inMinutes: 5, retries: 3, waitMinutes: 10 })
  t.same(PROBE_FLAGS.in.default, 5)
})

t.test('probe flags as "--flag N" or "--flag=N", in any order and case', async (t) => {
  t.same(parseCommand('probe --in 30 --retries 2 --wait 15'), {
    kind: 'probe',
    inMinutes: 30,
    retries: 2,
    waitMinutes: 15
  })
  t.same(parseCommand('PROBE --WAIT=120 --IN=0'), { kind: 'probe', inMinutes: 0, retries: 3, waitMinutes: 120 })
  t.same(
    parseCommand('probe --in 1440 --retries 0 --wait 5'),
    { kind: 'probe', inMinutes: 1440, retries: 0, waitMinutes: 5 },
    'the bounds are allowed'
  )
  t.same(parseCommand('probe   --retries   6'), { kind: 'probe', inMinutes: 5, retries: 6, waitMinutes: 10 })
})

t.test('a bad flag gets a readable error text', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [
      'probe --in 1441',
      /^--in takes the minutes until the check-in \(0 means now\): a whole number from 0 to 1440, not "1441"\.$/
    ],
    ['probe --in -1', /^--in takes .*, not "-1"\.$/],
    ['probe --in=-1', /^--in takes .*, not "-1"\.$/],
    [
      'probe --retries 7',
      /^--retries takes the number of follow-ups if you do not answer: a whole number from 0 to 6, not "7"\.$/
    ],
    ['probe --wait 4', /^--wait takes the minutes between follow-ups: a whole number from 5 to 120, not "4"\.$/],
    ['probe --wait 121', /^--wait takes .* from 5 to 120, not "121"\.$/],
    ['probe --in 2.5', /^--in takes .*, not "2\.5"\.$/],
    ['probe --in soon', /^--in takes .*, not "soon"\.$/],
    ['probe --in', /^--in needs the minutes until the check-in \(0 means now\): a whole number from 0 to 1440\.$/],
    ['probe --in=', /^--in needs /],
    ['probe --in 5 --in 6', /^--in is given twice\.$/],
    ['probe --later 5', /^probe has no flag --later\. Text "probe --help" to see how to use it\.$/],
    ['probe now', /^probe does not understand "now"/],
    ['ping --loud', /^ping takes no flags\. Text "ping --help"/],
    ['usage me', /^usage takes no flags/]
  ]
  for (const [text, message] of cases) {
    const parsed = parseCommand(text)
    t.equal(parsed?.kind, 'error', text)
    t.match(parsed && 'message' in parsed ? parsed.message : '', message, text)
  }
})

t.test("<command> --help gives that command's help", async (t) => {
  t.same(parseCommand('probe --help'), { kind: 'help', command: 'probe' })
  t.same(parseCommand('PING --HELP'), { kind: 'help', command: 'ping' })
  t.same(parseCommand('help --help'), { kind: 'help', command: 'usage' })
  t.same(
    parseCommand('probe --in 99999 --help'),
    { kind: 'help', command: 'probe' },
    'asking for help wins over a bad flag'
  )
  t.match(
    commandHelp('probe'),
    /--in: the minutes until the check-in \(0 means now\), 0 to 1440, default 5\. --retries: .* 0 to 6, default 3\. --wait: .* 5 to 120, default 10\. Needs an emergency contact\./
  )
  t.match(commandHelp('ping'), /PONG!/)
})

t.test('usage lists every command', async (t) => {
  for (const command of ['ping', 'usage', 'probe [--in N] [--retries N] [--wait N]']) t.match(usageText(), command)
})

t.test('pause takes hours, days, weeks or a date; resume and on take nothing', async (t) => {
  t.same(parseCommand('pause 3d'), { kind: 'pause', hours: 72 })
  t.same(parseCommand('PAUSE 12H'), { kind: 'pause', hours: 12 })
  t.same(parseCommand('pause 2w'), { kind: 'pause', hours: 336 })
  t.same(parseCommand('pause until 2027-01-10'), { kind: 'pause', date: { year: 2027, month: 1, day: 10 } })
  t.same(parseCommand('resume'), { kind: 'resume' })
  t.same(parseCommand(' On '), { kind: 'resume' })
  t.same(parseCommand('pause --help'), { kind: 'help', command: 'pause' })
  t.same(parseCommand('on --help'), { kind: 'help', command: 'resume' })
  t.match(parseCommand('pause'), { kind: 'error', message: /Text "pause 3d"/ })
  t.match(parseCommand('pause 3'), { kind: 'error', message: /does not understand "3"/ })
  t.match(parseCommand('pause 0h'), { kind: 'error', message: /from 1 hour to 365 days/ })
  t.match(parseCommand('pause 366d'), { kind: 'error', message: /from 1 hour to 365 days/ })
  t.match(parseCommand('pause until 2027-02-30'), { kind: 'error', message: /not a date/ })
  t.match(parseCommand('resume now'), { kind: 'error', message: /resume takes no flags/ })
  t.match(usageText(), /pause 3d/)
  t.match(usageText(), /resume \(or on\)/)
  t.match(commandHelp('pause'), /until that date begins in your time zone/)
})
