import type { AlarmTrigger } from '../events/types.js'

/**
 * Every text the alarm engine sends, to the contacts and to the user. Each says only what
 * is true when it is sent: "help is on the way" only after a contact acknowledged,
 * "reached" only for a contact whose phone got the alert (a delivery receipt) or who
 * answered, "sent to" where no receipt came.
 */

/** "A", "A and B", "A, B and C". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('')
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

/** What the alarm is about, for the contacts: the user's own words when there are some. */
export interface AlarmAbout {
  trigger: AlarmTrigger
  userName: string
  userFirstName: string
  userPhone: string
  quote: string | null
  code: string
}

const CALL_FOR_HELP = 'If you need help now, call your local emergency number.'

/**
 * A duress alarm: the person answered as if all were well, so whoever is with them must
 * not learn that Kronus raised an alarm. Kronus tells the user nothing about it, and asks
 * the contacts not to give it away either.
 */
const DURESS_ADVICE =
  'Kronus has told them nothing. Do not call or text them about Kronus or this alert: someone may be watching their phone. If you think they are in danger, call your local emergency number; otherwise check on them in a way that would seem ordinary.'

/** The advice, after a space, in a duress alarm's reminders; nothing for other alarms. */
const duressAdvice = (a: Pick<AlarmAbout, 'trigger'>) => (a.trigger === 'duress' ? ` ${DURESS_ADVICE}` : '')

/** The one line every alert and reminder ends with: how to answer. */
export function howToAnswer(a: Pick<AlarmAbout, 'code' | 'userFirstName'>): string {
  return `Reply OK ${a.code} if you will check on ${a.userFirstName}, or SAFE ${a.code} if ${a.userFirstName} is safe.`
}

function what(a: AlarmAbout): string {
  const said = a.quote ? ` They texted: "${a.quote}".` : ''
  switch (a.trigger) {
    case 'said_no':
      return `${a.userFirstName} answered that they are NOT OK.${said}`
    case 'distress':
      return `${a.userFirstName} asked for help.${said}`
    case 'panic':
      return `${a.userFirstName} sent an emergency text.${said}`
    case 'no_answer':
      return `${a.userFirstName} has not answered their check-ins.`
    case 'duress':
      return `${a.userFirstName} used their duress word in reply to Kronus: they may be under threat and unable to speak freely.`
    case 'unreachable':
      return `Kronus can no longer text ${a.userFirstName}${a.quote ? ` (${a.quote})` : ''}, so it cannot check on them.`
  }
}

export const alarmTexts = {
  /** The first alert to one contact. */
  alert(contactFirstName: string, a: AlarmAbout): string {
    const action =
      a.trigger === 'duress'
        ? DURESS_ADVICE
        : a.trigger === 'unreachable' || a.trigger === 'no_answer'
          ? `Please make sure they are OK: ${a.userPhone}.`
          : `Please contact them now: ${a.userPhone}.`
    return `${contactFirstName}, this is Kronus, the check-in service of ${a.userName}. ${what(a)} ${action} ${howToAnswer(a)}`
  },

  /** A reminder to a contact who has not acknowledged. */
  reminder(contactFirstName: string, a: AlarmAbout): string {
    return `${contactFirstName}, nobody has yet confirmed they are checking on ${a.userName} (${a.userPhone}). ${what(a)}${duressAdvice(a)} ${howToAnswer(a)}`
  },

  /** What a voice call says, and what it asks. */
  callSay(contactFirstName: string, a: AlarmAbout): string {
    const action = a.trigger === 'duress' ? DURESS_ADVICE : 'Please contact them now.'
    return `Hello ${contactFirstName}, this is Kronus, the check-in service of ${a.userName}. ${what(a)} ${action}`
  },
  callPrompt: (a: Pick<AlarmAbout, 'userFirstName'>) => `Press 1 if you will check on ${a.userFirstName}.`,
  callAcknowledged: (a: Pick<AlarmAbout, 'userFirstName'>) =>
    `Thank you. ${a.userFirstName} and the other contacts will be told you are on your way. Goodbye.`,

  /** To the contact who acknowledged. */
  acknowledgedToContact(contactFirstName: string, a: AlarmAbout, others: readonly string[]): string {
    const also = others.length > 0 ? ` ${listNames(others)} ${others.length === 1 ? 'is' : 'are'} also on it.` : ''
    return `Thank you ${contactFirstName}. ${a.userFirstName} and the other contacts know you are checking on them.${also} Reply SAFE ${a.code} once ${a.userFirstName} is safe.`
  },

  /** To the other contacts: who is on it. */
  acknowledgedToOthers(contactFirstName: string, ackName: string, a: AlarmAbout): string {
    return `${contactFirstName}, ${ackName} is checking on ${a.userName}. Reply SAFE ${a.code} if ${a.userFirstName} is safe.`
  },

  /** To the user: who is coming. The only text that says help is on the way. */
  acknowledgedToUser: (ackName: string) =>
    `Help is on the way: ${ackName} has confirmed they are checking on you. ${CALL_FOR_HELP}`,

  alreadyAcknowledged: (a: AlarmAbout) =>
    `You already said you will check on ${a.userFirstName}. Reply SAFE ${a.code} once ${a.userFirstName} is safe.`,

  /** Steps and repeats ran out with nobody acknowledging. */
  exhaustedToContact(contactFirstName: string, a: AlarmAbout): string {
    return `${contactFirstName}, nobody has confirmed they are checking on ${a.userName} (${a.userPhone}), and Kronus has no one else to ask. ${what(a)}${duressAdvice(a)} ${howToAnswer(a)}`
  },
  exhaustedToUser: () =>
    `None of your emergency contacts has confirmed they are coming. Kronus has stopped reminding them, but the alarm stays open. ${CALL_FOR_HELP} Reply OK when you are safe.`,

  /** Once every first alert has an outcome. */
  reportToUser(reached: readonly string[], sentTo: readonly string[], failed: readonly string[]): string {
    const parts: string[] = []
    if (reached.length > 0) parts.push(`Kronus reached ${listNames(reached)}.`)
    if (sentTo.length > 0) parts.push(`Your alert was sent to ${listNames(sentTo)} (no delivery receipt yet).`)
    if (failed.length > 0) parts.push(`It could not reach ${listNames(failed)}.`)
    parts.push('Nobody has confirmed they are coming yet; Kronus will tell you when someone does.')
    return parts.join(' ')
  },
  nobodyReachedToUser: (failed: readonly string[]) =>
    `Kronus could not reach any of your emergency contacts (${listNames(failed)}). ${CALL_FOR_HELP} Reply OK when you are safe.`,
  noContactToUser: () =>
    `You have no emergency contact, so Kronus could not alert anyone. ${CALL_FOR_HELP} Reply OK when you are safe.`,

  /** The all-clear, to every contact who was alerted. */
  allClearToContact(contactFirstName: string, a: AlarmAbout, by: string, at: string): string {
    return `${contactFirstName}, all clear: ${by === a.userName ? `${a.userFirstName} answered that they are OK` : `${by} says ${a.userFirstName} is safe`} (${at}). The alarm for ${a.userName} is over. Thank you.`
  },
  allClearToUser(reason: 'user_ok' | 'contact_safe' | 'admin', by: string, checkInsOn: boolean): string {
    const start =
      reason === 'user_ok'
        ? 'Glad you are OK. Kronus told your emergency contacts that all is well.'
        : `${by} told Kronus you are safe; the alarm is over and your contacts have been told.`
    const after = checkInsOn
      ? 'Your check-ins are back on.'
      : 'Your check-ins are off; turn them back on in Kronus when you are ready.'
    return `${start} ${after}`
  },
  /** An administrator closed the alarm: says who and why, and nothing about the person's safety. */
  closedByAdminToContact(contactFirstName: string, a: AlarmAbout, by: string, at: string, note: string): string {
    return `${contactFirstName}, the alarm for ${a.userName} was closed by ${by}, who runs Kronus (${at}): "${note}". You no longer need to answer it.`
  },
  closedByAdminToUser(by: string, note: string, checkInsOn: boolean): string {
    const after = checkInsOn
      ? 'Your check-ins are back on.'
      : 'Your check-ins are off; turn them back on in Kronus when you are ready.'
    return `${by}, who runs Kronus, closed your alarm: "${note}". Your emergency contacts have been told. ${after}`
  },
  alreadyResolved: () => 'That alarm is already over.',

  /** To the user whose emergency contact texted STOP. */
  contactOptedOutToUser: (name: string, phone: string) =>
    `Your emergency contact ${name} (${phone}) texted STOP, so Kronus can no longer text them an alert. Ask them to text START, or choose another emergency contact in Kronus.`,
  optedOutToContact: () =>
    'You will get no more texts from Kronus. If someone counts on you as an emergency contact, they have been told. Reply START to get alerts again.',
  optedInToContact: () => 'You can get Kronus alerts again.',

  /** A contact's reply that Kronus could not tie to one alarm. */
  whichAlarm: (codes: readonly string[]) =>
    `You are a contact on more than one alarm. Reply OK followed by its code (${listNames(codes.map((c) => `OK ${c}`))}).`,
  unknownCode: (code: string) => `No open alarm with the code ${code} is waiting for your answer.`,
  hintToContact: (a: Pick<AlarmAbout, 'code' | 'userFirstName'>) => howToAnswer(a),

  /** The user texts trouble again while their alarm is open. */
  alarmStillOpenToUser: () =>
    `Your emergency contacts have been alerted and Kronus keeps asking them. ${CALL_FOR_HELP} Reply OK when you are safe.`,
  panicToUser: () => 'We are alerting your emergency contacts now.'
} as const
