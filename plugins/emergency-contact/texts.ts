/** Everything the emergency-contact plugin texts, to the contacts and to the user. */

export type EmergencyStatus = 'bad' | 'unavailable'

interface Person {
  first_name: string
  last_name: string
}

export function fullName(person: Person): string {
  return `${person.first_name} ${person.last_name}`.trim()
}

/** "A", "A and B", "A, B and C". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('')
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
}

const CALL_FOR_HELP = 'If you need help, call your local emergency number.'
const PROBES_OFF = 'Your check-ins are now off; turn them back on in Kronus when you are ready.'

export const emergencyTexts = {
  /** The alert. A "no" and silence read differently, so the contact knows how urgent it is. */
  toContact(status: EmergencyStatus, contact: Person, user: Person & { phone_number: string }): string {
    const intro = `${contact.first_name}, this is Kronus, the check-in service of ${fullName(user)}.`
    return status === 'bad'
      ? `${intro} ${user.first_name} answered that they are NOT OK. Please contact them now: ${user.phone_number}.`
      : `${intro} ${user.first_name} has not answered their check-ins. Please make sure they are OK: ${user.phone_number}.`
  },

  /** Once every alert has an outcome: whom Kronus reached, and whom not. */
  toUserReached(status: EmergencyStatus, reached: readonly string[], failed: readonly string[]): string {
    const why = status === 'unavailable' ? 'You did not answer your check-in, so ' : ''
    const who = `${why}Kronus reached your emergency contact${reached.length === 1 ? '' : 's'} ${listNames(reached)}.`
    const missed = failed.length > 0 ? ` It could not reach ${listNames(failed)}.` : ''
    return `${who}${missed} ${PROBES_OFF}`
  },

  toUserNobodyReached(failed: readonly string[]): string {
    return `Kronus could not reach any of your emergency contacts (${listNames(failed)}). ${CALL_FOR_HELP} ${PROBES_OFF}`
  },

  toUserNoContact(): string {
    return `You have no emergency contact, so Kronus could not alert anyone. ${CALL_FOR_HELP} ${PROBES_OFF}`
  }
} as const
