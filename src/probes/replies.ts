/**
 * What a person's text means, as an answer to a check-in or as a cry for help.
 *
 * - good: a plain yes (Y, ok, okay, yes., yep, fine, I'm ok, all good, 👍...);
 * - bad: a plain no (N, no, nope, nah, na, "No.");
 * - distress: words of trouble (help, SOS, 911, emergency, not ok, hurt, I fell,
 *   ambulance...): an alarm at once while a check-in waits;
 * - panic: SOS, HELP ME, 911 alone: an alarm at any time, even with nothing pending;
 * - none: anything else. It is never guessed at: a wrong guess is a missed alarm or a
 *   false one.
 *
 * A negation always wins over a yes word: "not ok", "not fine", "no I'm not ok" are
 * distress, never good.
 */
export type ReplyKind = 'good' | 'bad' | 'distress' | 'panic' | 'none'

/** Lower case, apostrophes dropped, every other non-letter/digit a single space; emoji kept apart. */
export function normalize(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’'`]/g, '')
    .replace(/👍[\u{1F3FB}-\u{1F3FF}]?/gu, ' 👍 ')
    .replace(/[^\p{L}\p{N}👍]+/gu, ' ')
    .trim()
}

const GOOD = new Set([
  'y',
  'yes',
  'yeah',
  'yh',
  'yep',
  'yup',
  'ya',
  'ok',
  'okay',
  'k',
  'fine',
  'im ok',
  'im okay',
  'im fine',
  'i am ok',
  'i am okay',
  'i am fine',
  'all good',
  'all ok',
  'im good',
  'i am good',
  'good',
  'yes im ok',
  'yes im fine',
  'yes i am ok',
  'ok thanks',
  'ok thank you',
  'yes thanks',
  '👍'
])

const BAD = new Set(['n', 'no', 'nope', 'nah', 'na', 'no thanks'])

/** Alone, at any time: a panic alarm even with no check-in waiting. */
const PANIC = new Set(['sos', 's o s', 'help me', '911', 'help me please', 'please help me', 'sos sos', 'help help'])

/** A phrase in the text (on word boundaries) that means trouble. */
const DISTRESS_PHRASES = [
  'help',
  'help me',
  'sos',
  '911',
  '112',
  '999',
  'emergency',
  'not ok',
  'not okay',
  'not fine',
  'not good',
  'not well',
  'not alright',
  'not all right',
  'hurt',
  'injured',
  'fell',
  'fallen',
  'ambulance',
  'call 911',
  'cant breathe',
  'cannot breathe',
  'chest pain',
  'bleeding',
  'unwell',
  'need help'
]

/** Words that turn a yes into its opposite. */
const NEGATIONS = ['not', 'no', 'nope', 'never', 'isnt', 'aint', 'dont', 'cant', 'cannot']

function hasPhrase(normalized: string, phrase: string): boolean {
  return ` ${normalized} `.includes(` ${phrase} `)
}

/** The meaning of a text: see the comment at the top of this file. */
export function classifyReply(text: string): ReplyKind {
  const words = normalize(text)
  if (words === '') return 'none'
  if (PANIC.has(words)) return 'panic'
  if (BAD.has(words)) return 'bad'
  if (DISTRESS_PHRASES.some((phrase) => hasPhrase(words, phrase))) return 'distress'
  // "no, I'm not ok" is distress above; any other negation beside a yes word ("no I'm
  // fine") is no answer either way: never good.
  if (GOOD.has(words) && !NEGATIONS.some((word) => hasPhrase(words, word))) return 'good'
  return 'none'
}

export type ReplyMeaning = 'good' | 'bad'

/**
 * The answer to a check-in: 'good', 'bad' (a no, or distress or panic in words), or
 * null when the text is no answer.
 */
export function parseReply(text: string): ReplyMeaning | null {
  const kind = classifyReply(text)
  if (kind === 'good') return 'good'
  if (kind === 'bad' || kind === 'distress' || kind === 'panic') return 'bad'
  return null
}

/** Carrier opt-out keywords (Twilio's list): the sender can no longer be texted. */
const OPT_OUT = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit'])

/** True when the text is an opt-out keyword alone (as carriers read them). */
export function isOptOut(text: string): boolean {
  return OPT_OUT.has(text.trim().toLowerCase())
}
