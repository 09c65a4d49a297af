/**
 * The SMS commands of the first Kronus, as a parser with no side effects: a text becomes
 * a command to run, an error text for the sender, or null when it is no command at all
 * (and so, most likely, an answer to a check-in).
 */

export interface FlagRule {
  min: number
  max: number
  default: number
  /** What the number means, for errors and help. */
  means: string
}

export const PROBE_FLAGS = {
  in: { min: 0, max: 1440, default: 5, means: 'the minutes until the check-in (0 means now)' },
  retries: { min: 0, max: 6, default: 3, means: 'the number of follow-ups if you do not answer' },
  wait: { min: 5, max: 120, default: 10, means: 'the minutes between follow-ups' }
} as const satisfies Record<string, FlagRule>

export type ProbeFlag = keyof typeof PROBE_FLAGS

export type CommandName = 'ping' | 'usage' | 'probe' | 'pause' | 'resume'

/** The longest pause, as probe_settings.paused_until allows it. */
export const MAX_PAUSE_DAYS = 365
const UNIT_HOURS: Record<string, number> = { h: 1, d: 24, w: 24 * 7 }

export type ParsedCommand =
  | { kind: 'ping' }
  | { kind: 'usage' }
  | { kind: 'help'; command: CommandName }
  | { kind: 'probe'; inMinutes: number; retries: number; waitMinutes: number }
  | { kind: 'pause'; hours: number }
  | { kind: 'pause'; date: { year: number; month: number; day: number } }
  | { kind: 'resume' }
  | { kind: 'error'; message: string }

// `help` is what people (and carriers, as a keyword) try first; with nothing pending it
// answers like `usage` (which ends with how to ask for help now). While a check-in waits,
// `help` never gets here: the alarm engine's handler comes first and takes it as distress.
const COMMANDS: ReadonlyMap<string, CommandName> = new Map([
  ['ping', 'ping'],
  ['usage', 'usage'],
  ['help', 'usage'],
  ['probe', 'probe'],
  ['pause', 'pause'],
  ['resume', 'resume'],
  // `on` is what people text after "check-ins are off": the same as resume.
  ['on', 'resume']
])

const HELP: Record<CommandName, string> = {
  ping: 'ping: Kronus answers PONG! so you know it gets your texts. No flags.',
  usage: 'usage (or help): lists the commands. No flags.',
  probe:
    'probe [--in N] [--retries N] [--wait N]: Kronus checks on you. ' +
    `--in: ${PROBE_FLAGS.in.means}, ${PROBE_FLAGS.in.min} to ${PROBE_FLAGS.in.max}, default ${PROBE_FLAGS.in.default}. ` +
    `--retries: ${PROBE_FLAGS.retries.means}, ${PROBE_FLAGS.retries.min} to ${PROBE_FLAGS.retries.max}, default ${PROBE_FLAGS.retries.default}. ` +
    `--wait: ${PROBE_FLAGS.wait.means}, ${PROBE_FLAGS.wait.min} to ${PROBE_FLAGS.wait.max}, default ${PROBE_FLAGS.wait.default}. ` +
    'Needs an emergency contact.',
  pause:
    'pause Nh, pause Nd, pause Nw, or pause until YYYY-MM-DD: no scheduled check-ins for N hours, days or weeks, ' +
    `or until that date begins in your time zone (check-ins resume that day), at most ${MAX_PAUSE_DAYS} days. ` +
    'A waiting check-in is cancelled. Kronus texts you when check-ins resume; for a pause over 7 days your ' +
    'emergency contacts are told. Text "resume" to end it sooner.',
  resume:
    'resume (or on): ends a pause, and turns your check-ins back on if they were off. ' +
    'After you texted STOP, text START first. No flags.'
}

export function commandHelp(command: CommandName): string {
  return HELP[command]
}

export function usageText(): string {
  return [
    'Kronus commands:',
    'ping - check that Kronus hears you',
    'usage - this list',
    'probe [--in N] [--retries N] [--wait N] - ask Kronus to check on you',
    'pause 3d / pause 12h / pause until 2027-01-10 - no check-ins until then',
    'resume (or on) - check-ins back on',
    'Text "<command> --help" for more. Answer a check-in with Y or N.',
    'Text SOS if you need help now: Kronus alerts your emergency contacts at once.'
  ].join('\n')
}

const seeHelp = (command: CommandName) => `Text "${command} --help" to see how to use it.`

/** Reads `--name value` and `--name=value` pairs; flags are case-insensitive like the rest. */
function parseProbeFlags(args: string[]): ParsedCommand {
  const values: Partial<Record<ProbeFlag, number>> = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg)
    if (!match) return { kind: 'error', message: `probe does not understand "${arg}". ${seeHelp('probe')}` }
    const name = match[1]!
    if (!(name in PROBE_FLAGS)) return { kind: 'error', message: `probe has no flag --${name}. ${seeHelp('probe')}` }
    const flag = name as ProbeFlag
    const rule: FlagRule = PROBE_FLAGS[flag]
    if (values[flag] !== undefined) return { kind: 'error', message: `--${flag} is given twice.` }
    const raw = match[2] ?? args[++i]
    const range = `${rule.means}: a whole number from ${rule.min} to ${rule.max}`
    if (raw === undefined || raw === '') return { kind: 'error', message: `--${flag} needs ${range}.` }
    if (!/^\d{1,5}$/.test(raw) || Number(raw) < rule.min || Number(raw) > rule.max) {
      return { kind: 'error', message: `--${flag} takes ${range}, not "${raw}".` }
    }
    values[flag] = Number(raw)
  }
  return {
    kind: 'probe',
    inMinutes: values.in ?? PROBE_FLAGS.in.default,
    retries: values.retries ?? PROBE_FLAGS.retries.default,
    waitMinutes: values.wait ?? PROBE_FLAGS.wait.default
  }
}

/** `pause 3d`, `pause 12h`, `pause 2w`, `pause until 2027-01-10`. */
function parsePause(args: string[]): ParsedCommand {
  const usage = `Text "pause 3d", "pause 12h" or "pause until 2027-01-10". ${seeHelp('pause')}`
  if (args.length === 1) {
    const match = /^(\d{1,4})([hdw])$/.exec(args[0]!)
    if (!match) return { kind: 'error', message: `pause does not understand "${args[0]}". ${usage}` }
    const hours = Number(match[1]) * UNIT_HOURS[match[2]!]!
    if (hours < 1 || hours > MAX_PAUSE_DAYS * 24)
      return { kind: 'error', message: `A pause lasts from 1 hour to ${MAX_PAUSE_DAYS} days.` }
    return { kind: 'pause', hours }
  }
  if (args.length === 2 && args[0] === 'until') {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(args[1]!)
    const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0]
    const calendar = new Date(Date.UTC(year, month - 1, day))
    if (!match || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day)
      return { kind: 'error', message: `"${args[1]}" is not a date like 2027-01-10. ${usage}` }
    return { kind: 'pause', date: { year, month, day } }
  }
  return { kind: 'error', message: usage }
}

/** The command a text is, or null when its first word names no command. */
export function parseCommand(text: string): ParsedCommand | null {
  const [first, ...args] = text.trim().toLowerCase().split(/\s+/)
  const command = first === undefined ? undefined : COMMANDS.get(first)
  if (!command) return null
  if (args.includes('--help')) return { kind: 'help', command }
  if (command === 'probe') return parseProbeFlags(args)
  if (command === 'pause') return parsePause(args)
  if (args.length > 0) return { kind: 'error', message: `${command} takes no flags. ${seeHelp(command)}` }
  return { kind: command }
}
