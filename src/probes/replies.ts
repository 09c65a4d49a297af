/**
 * The words a person may answer a check-in with, as the first Kronus understood them.
 * Anything else is not an answer: it must never be guessed at, because a wrong guess is
 * either a missed alarm or a false one.
 */
const GOOD = new Set(['yes', 'yeah', 'yh', 'y'])
const BAD = new Set(['no', 'nope', 'nah', 'na', 'n'])

export type ReplyMeaning = 'good' | 'bad'

/** 'good', 'bad', or null when the text is not one of the known answers. */
export function parseReply(text: string): ReplyMeaning | null {
  const word = text.trim().toLowerCase()
  if (GOOD.has(word)) return 'good'
  if (BAD.has(word)) return 'bad'
  return null
}
