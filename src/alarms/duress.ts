import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Knex } from 'knex'
import { classifyReply, isOptOut, normalize } from '../probes/replies.js'

/**
 * A duress word: a word the user agrees with themselves to answer a check-in with when
 * someone is making them answer. Kronus answers it exactly like Y and raises a silent
 * alarm (trigger `duress`) that the user is never told about.
 *
 * It is kept as `<salt hex>:<SHA-256(salt, normalized word) hex>`: a reply is matched by
 * hashing it with the stored salt, so the word itself is never readable from the
 * database. A slow hash (scrypt) would buy little here, since every reply is hashed, and
 * the word is short by nature.
 */

export const DURESS_WORD_LENGTH = { min: 3, max: 64 } as const

/**
 * What a duress reply is recorded as wherever Kronus keeps a reply (the message.received
 * event, probes.last_response, probe.reply_received, the status change's reason): `Y`,
 * the answer every check-in asks for ("Reply Y or N"). So the user's history shows the
 * most ordinary OK there is, exactly what a Y leaves, and the word itself, the user's
 * secret, is kept nowhere (not in the database, its backups or a webhook's copy).
 */
export const DURESS_REPLY_RECORDED_AS = 'Y'

/**
 * First words of SMS commands and carrier keywords (sms-commands, the carrier handler and
 * the opt-in/opt-out words): a duress word equal to one would turn an ordinary command into a
 * silent alarm, or make the word unusable.
 */
const RESERVED = new Set([
  'start',
  'unstop',
  'stop',
  'help',
  'info',
  'ping',
  'usage',
  'error',
  'probe',
  'pause',
  'resume',
  'on',
  'off',
  'status'
])

/** First words of an answer to an alarm (`OK 42`, `SAFE 42`): such a text is read as one before anything else. */
const ALARM_ANSWER_STARTS = new Set(['ok', 'okay', 'yes', 'y', 'safe'])

/** Why `word` cannot be a duress word, or null when it can. Never repeats the word. */
export function duressWordProblem(word: string): string | null {
  const trimmed = word.trim()
  if (trimmed.length < DURESS_WORD_LENGTH.min || trimmed.length > DURESS_WORD_LENGTH.max)
    return `"duress_word" must be ${DURESS_WORD_LENGTH.min} to ${DURESS_WORD_LENGTH.max} characters long`
  const normalized = normalize(trimmed)
  if (normalized.length < DURESS_WORD_LENGTH.min)
    return `"duress_word" must hold at least ${DURESS_WORD_LENGTH.min} letters or digits`
  const kind = classifyReply(trimmed)
  if (kind !== 'none')
    return `"duress_word" must not be a word Kronus already reads as an answer (it reads this one as ${kind === 'good' ? 'OK' : kind === 'bad' ? 'a no' : 'a call for help'})`
  if (isOptOut(trimmed) || RESERVED.has(normalized.split(' ')[0]!))
    return '"duress_word" must not be, or start with, an SMS command or carrier keyword (START, STOP, HELP, PROBE...)'
  if (ALARM_ANSWER_STARTS.has(normalized.split(' ')[0]!))
    return '"duress_word" must not start with OK, YES or SAFE, which begin answers to alarms'
  return null
}

function digest(salt: Buffer, word: string): Buffer {
  return createHash('sha256').update(salt).update(normalize(word)).digest()
}

/** What is stored for a duress word (a fresh salt each time). */
export function hashDuressWord(word: string): string {
  const salt = randomBytes(16)
  return `${salt.toString('hex')}:${digest(salt, word).toString('hex')}`
}

/** True when `text`, normalized, is the word stored as `stored`. */
export function matchesDuressHash(stored: string | null | undefined, text: string): boolean {
  if (!stored) return false
  const [saltHex, hashHex] = stored.split(':')
  if (!saltHex || !hashHex) return false
  const expected = Buffer.from(hashHex, 'hex')
  const actual = digest(Buffer.from(saltHex, 'hex'), text)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** True when the user has a duress word and `text` is it. */
export async function isDuressWord(db: Knex | Knex.Transaction, userId: number, text: string): Promise<boolean> {
  if (normalize(text).length < DURESS_WORD_LENGTH.min) return false
  const row = await db('escalation_settings').select('duress_word_hash').where({ user_id: userId }).first()
  return matchesDuressHash(row?.duress_word_hash, text)
}

/**
 * For Messaging.recordInboundAs: a user's text that is their duress word is recorded as
 * DURESS_REPLY_RECORDED_AS; any other text (null) as sent.
 */
export async function duressReplyRecord(
  message: { userId: number | null; text: string },
  trx: Knex.Transaction
): Promise<string | null> {
  if (message.userId === null || classifyReply(message.text) !== 'none') return null
  return (await isDuressWord(trx, message.userId, message.text)) ? DURESS_REPLY_RECORDED_AS : null
}
