import type { Knex } from 'knex'
import type { AnyInboundPreparer, AnyInboundText } from '../messaging/messaging.js'
import { classifyReply, isOptOut, normalize } from '../probes/replies.js'
import { isDuressWord } from './duress.js'
import type { AlarmEngine } from './engine.js'
import { alarmTexts } from './texts.js'

/** What the router needs of the probe lifecycle: the pending check-in, and a reply to it. */
export interface CheckIns {
  pendingProbe(userId: number, trx?: Knex.Transaction): Promise<{ id: number } | undefined>
  /** The users among `userIds` with a check-in waiting. */
  pendingUsers(userIds: number[], trx: Knex.Transaction): Promise<Set<number>>
  handleReply(reply: { userId: number; text: string }, trx?: Knex.Transaction): Promise<{ answer: string | null }>
  /**
   * The duress word to a waiting check-in: it ends exactly as a Y would, and raises the
   * silent duress alarm. It is not handed the word, which it would otherwise keep.
   */
  handleDuressReply(reply: { userId: number }, trx?: Knex.Transaction): Promise<{ answer: string | null }>
}

/** What the router needs of emergency contacts' consent (ContactConsent). */
export interface Consents {
  /** `YES <code>` from a phone: the reply to it, or null when no pending invitation of that phone has the code. */
  agree(trx: Knex.Transaction, phone: string, code: string): Promise<string | null>
  /** STOP from a phone: its pending invitations are refused. */
  refusePending(trx: Knex.Transaction, phone: string): Promise<number>
}

/** `OK 42`, `ok42`, `Safe #42.`: a verb and an alarm's code (or `YES 17`, a contact's consent code). */
const CODED = /^\s*(ok|okay|yes|y|safe)\s*#?\s*(\d{2,8})\s*[.!]*\s*$/i
/** A contact's plain yes: acknowledges when there is exactly one alarm it can be for. */
const ON_MY_WAY = new Set(['on my way', 'omw', 'coming', 'im coming', 'i am coming', 'on it', 'will do', 'going now'])
const OPT_IN = new Set(['start', 'unstop'])
/** The coded verbs that can agree to an invitation ("Reply YES 17 to agree"); SAFE never does. */
const AGREE = new Set(['yes', 'y', 'ok', 'okay'])

/**
 * The first inbound handler: it sees every text, from users and from phones that are no
 * user's, before sms-commands, the carrier keywords and the check-in's own handler.
 *
 * - A text with an alarm's code (`OK 42`, `SAFE 42`) always belongs to that alarm, never
 *   to the sender's own check-in (a contact who is also a user).
 * - While the sender's own check-in waits, a no, distress or panic words end it as bad
 *   and raise the alarm at once (so `help` is distress here, not the command list).
 * - With nothing pending: the user's OK resolves their open alarm; SOS, HELP ME or 911
 *   raise a panic alarm; a contact's plain OK or "on my way" acknowledges their one alarm.
 * - `YES 17` that is no open alarm's code of that phone agrees to that phone's pending
 *   invitation to be an emergency contact with code 17 (the alarm is tried first).
 * - The user's duress word (see duress.ts) ends a waiting check-in exactly as Y does and
 *   raises a silent duress alarm; with nothing waiting it raises that alarm too and gets
 *   the answer any text Kronus does not understand gets (none here). A duress alarm is
 *   invisible to the user's own texts: their OK does not end it (they may be made to
 *   send it), and nothing they text is answered as if an alarm were open.
 * - STOP from a contact refuses their pending invitations and marks them unreachable by
 *   text (the user is told); from a user
 *   with a check-in waiting or no alarm open, the contacts are told Kronus can no longer
 *   reach them. It then goes on to the carrier keyword handler, which turns check-ins off.
 */
export function alarmInboundHandler(engine: AlarmEngine, checkIns: CheckIns, consents: Consents): AnyInboundPreparer {
  const answer = answerOne(engine, checkIns, consents)
  return async (texts, trx) => {
    const okUsers = texts.filter(isUsersPlainOk).map((t) => t.userId as number)
    if (okUsers.length === 0) return answer
    // Read once for the batch. Only the sender's own texts give them a check-in's end
    // or an alarm, and a phone sends one text a batch: no other text of the batch
    // changes either for this sender, so the answer stays true while the batch runs.
    const waiting = await checkIns.pendingUsers(okUsers, trx)
    const alarmed = await engine.usersWithOpenAlarm(trx, okUsers)
    return (message, trx) => {
      // An OK to a waiting check-in with no alarm open: the check-in's own handler answers it.
      if (isUsersPlainOk(message) && waiting.has(message.userId!) && !alarmed.has(message.userId!)) return null
      return answer(message, trx)
    }
  }
}

/**
 * A user's plain yes ("Y", "ok", "I am fine"): no code, no keyword. While their check-in
 * waits and no alarm of theirs is open, the alarm engine has nothing to do with it.
 */
function isUsersPlainOk(message: AnyInboundText): boolean {
  const { text } = message
  return (
    message.userId !== null &&
    !isOptOut(text) &&
    !OPT_IN.has(text.trim().toLowerCase()) &&
    !CODED.test(text) &&
    classifyReply(text) === 'good'
  )
}

/** The alarm engine's answer to one text, every state read as it comes. */
function answerOne(engine: AlarmEngine, checkIns: CheckIns, consents: Consents) {
  return async (message: AnyInboundText, trx: Knex.Transaction): Promise<string | null> => {
    const { from, text, userId } = message

    if (isOptOut(text)) {
      await consents.refusePending(trx, from)
      const contactRows = await engine.phoneOptedOut(trx, from)
      // A stranger (no user, nobody's contact) gets no answer, as to anything else.
      if (userId === null) return contactRows > 0 ? alarmTexts.optedOutToContact() : null
      const pending = await checkIns.pendingProbe(userId, trx)
      await engine.userUnreachable(
        trx,
        userId,
        pending ? 'they texted STOP while a check-in waited: check-ins are off' : 'they texted STOP: check-ins are off'
      )
      return null
    }
    if (OPT_IN.has(text.trim().toLowerCase())) {
      const contactRows = await engine.phoneOptedIn(trx, from)
      return userId === null && contactRows > 0 ? alarmTexts.optedInToContact() : null
    }

    const coded = CODED.exec(text)
    if (coded) {
      const verb = coded[1]!.toLowerCase()
      const code = coded[2]!
      const found = await engine.alarmByCode(trx, from, code)
      if (found) {
        const { alarm, contact } = found
        if (contact === null) {
          // The user's own code: OK or SAFE from them is their all-clear.
          return engine.resolve(trx, alarm, 'user_ok', alarm.user_name)
        }
        if (verb === 'safe') {
          await engine.resolve(trx, alarm, 'contact_safe', contact.name)
          return `Thank you ${contact.first_name}. Kronus told everyone that ${alarm.user_first_name} is safe; the alarm is over.`
        }
        if (contact.state === 'waiting') return alarmTexts.unknownCode(code)
        return engine.acknowledge(trx, alarm, contact, 'sms')
      }
      // A code that is no open alarm of this phone may be a new emergency contact's consent.
      if (AGREE.has(verb)) {
        const agreed = await consents.agree(trx, from, code)
        if (agreed !== null) return agreed
      }
      // Neither: never taken as a check-in answer either.
      if (userId === null || !(await checkIns.pendingProbe(userId, trx))) return alarmTexts.unknownCode(code)
      return null
    }

    const kind = classifyReply(text)
    if (userId !== null) {
      const pending = await checkIns.pendingProbe(userId, trx)
      const open = await engine.openAlarmOf(userId, trx)
      const own = open?.trigger === 'duress' ? undefined : open
      const duress = kind === 'none' && (await isDuressWord(trx, userId, text))
      if (pending) {
        if (duress) return (await checkIns.handleDuressReply({ userId }, trx)).answer
        if (kind === 'bad' || kind === 'distress' || kind === 'panic')
          return (await checkIns.handleReply({ userId, text }, trx)).answer
        // An OK to a check-in also clears an alarm still open (a panic text, say); the check-in answers.
        if (kind === 'good' && own) await engine.resolve(trx, own, 'user_ok', own.user_name)
        return null
      }
      if (duress) {
        await engine.raise(trx, { userId, trigger: 'duress' })
        return null
      }
      if (own) {
        if (kind === 'good') return engine.resolve(trx, own, 'user_ok', own.user_name)
        if (kind === 'bad' || kind === 'distress' || kind === 'panic') {
          await engine.raise(trx, { userId, trigger: kind === 'panic' ? 'panic' : 'distress', quote: text })
          return alarmTexts.alarmStillOpenToUser()
        }
      } else if (kind === 'panic') {
        const raised = await engine.raise(trx, { userId, trigger: 'panic', quote: text, answeringUser: true })
        return raised.userText ?? alarmTexts.panicToUser()
      }
    }

    // A contact's plain yes: only with exactly one alarm it can be for.
    if (kind === 'good' || ON_MY_WAY.has(normalize(text))) {
      const alerting = (await engine.alarmsAlerting(trx, from)).filter(
        ({ contact }) => contact.state !== 'acknowledged'
      )
      if (alerting.length === 1) return engine.acknowledge(trx, alerting[0]!.alarm, alerting[0]!.contact, 'sms')
      if (alerting.length > 1) return alarmTexts.whichAlarm(alerting.map(({ alarm }) => alarm.code))
    }
    if (userId === null) {
      const alerting = await engine.alarmsAlerting(trx, from)
      if (alerting.length === 1) {
        const { alarm } = alerting[0]!
        return alarmTexts.hintToContact({ code: alarm.code, userFirstName: alarm.user_first_name })
      }
      if (alerting.length > 1) return alarmTexts.whichAlarm(alerting.map(({ alarm }) => alarm.code))
    }
    return null
  }
}
