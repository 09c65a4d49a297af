/**
 * The carrier keywords Twilio's Messaging Services treat as opting out of or back into
 * texts. Twilio blocks texts to a number that opted out; Kronus also turns that user's
 * probes off, so it never keeps scheduling check-ins nobody can receive. Before this
 * handler runs, the core's alarm engine (which sees every inbound text first) has told
 * the user's emergency contacts that Kronus can no longer reach them, kept any open alarm
 * open, and marked the number unreachable where it is someone's emergency contact.
 */
const OPT_OUT = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit'])
// Twilio also takes YES as opting back in, but here YES answers a check-in: only these.
const OPT_IN = new Set(['start', 'unstop'])

export type Keyword = { kind: 'opt_out'; word: string } | { kind: 'opt_in'; word: string }

/** The keyword a text is, or null. Like Twilio, only a text that is the keyword alone counts. */
export function parseKeyword(text: string): Keyword | null {
  const word = text.trim().toLowerCase()
  if (OPT_OUT.has(word)) return { kind: 'opt_out', word: word.toUpperCase() }
  if (OPT_IN.has(word)) return { kind: 'opt_in', word: word.toUpperCase() }
  return null
}

export const keywordTexts = {
  optedOut: () =>
    'Kronus check-ins are off and you will get no more texts from this number. ' +
    'To get texts again, reply START; then turn your check-ins back on in Kronus.',
  optedIn: () =>
    'You can get texts from Kronus again. Your check-ins stay off until you turn them back on ' +
    'in Kronus (probe settings, "active": true).'
} as const
