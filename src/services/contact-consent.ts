import { randomInt } from 'node:crypto'
import type { Knex } from 'knex'
import { uniqueViolationColumn } from '../db/errors.js'
import { Contact, User } from '../db/models/index.js'
import { inSavepoint } from '../db/savepoint.js'
import { RateLimitedError } from '../domain/errors.js'
import type { OutgoingMessage } from '../messaging/messaging.js'
import { contactConsentTextKey, contactInviteRef, contactInviteTextKey } from '../queue/keys.js'
import type { ServiceContext } from './context.js'

/** What consent needs of messaging: sending a text in the caller's transaction. */
export interface ConsentMessaging {
  /** Resolves to false when a refusable text was not queued: the user's or the server's text allowance is spent. */
  send(message: OutgoingMessage, trx?: Knex.Transaction): Promise<boolean>
}

/**
 * Names in the invitation come from the user's own first and last name (validated fields,
 * never free text), cut short so a text to a stranger cannot carry a paragraph of
 * someone's choosing.
 */
const NAME_IN_TEXT = 30

function short(name: string): string {
  return name.length > NAME_IN_TEXT ? name.slice(0, NAME_IN_TEXT) : name
}

interface Person {
  first_name: string
  last_name: string
  phone_number: string
}

function fullName(person: Pick<Person, 'first_name' | 'last_name'>): string {
  return `${short(person.first_name)} ${short(person.last_name)}`.trim()
}

export const consentTexts = {
  invitation: (user: Person, code: string) =>
    `${fullName(user)} (${user.phone_number}) added you as their emergency contact on Kronus, a check-in service. ` +
    `Kronus will text you an alert if ${short(user.first_name)} says they need help or does not answer a check-in. ` +
    `Reply YES ${code} to agree or STOP to refuse.`,
  agreedToContact: (user: Person) =>
    `Thank you. You are ${fullName(user)}'s emergency contact: Kronus will text you an alert if ` +
    `${short(user.first_name)} says they need help or does not answer a check-in. Reply STOP at any time to get no more texts from Kronus.`,
  agreedToUser: (contact: Person) =>
    `${fullName(contact)} (${contact.phone_number}) agreed to be your emergency contact.`,
  refusedToUser: (contact: Person) =>
    `${fullName(contact)} (${contact.phone_number}) replied STOP to your invitation: they are not your emergency contact ` +
    'and Kronus can no longer text them. Choose another emergency contact in Kronus.'
} as const

/** The digits of a first consent code: two, as in "YES 17"; longer only when a phone has that many codes in use. */
const FIRST_CODE_DIGITS = 2
const MAX_CODE_DIGITS = 5
const TRIES_PER_LENGTH = 20
/** Text allowances are counted in hourly steps (TextAllowance), so an hour is when one may free up. */
const INVITE_RETRY_AFTER_SEC = 3600

/**
 * Emergency contacts agree first (issue 15). A contact marked as an emergency contact gets
 * one invitation and is `pending` until they text `YES <code>` (`agreed`) or STOP
 * (`refused`). Alarms go to every emergency contact whatever their state: consent decides
 * only whether check-ins can be turned on (ProbeSettingsService).
 */
export class ContactConsent {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly messaging: ConsentMessaging
  ) {}

  /** Makes the contact pending with a new code and texts them the invitation. */
  async invite(trx: Knex.Transaction, contact: Contact): Promise<Contact> {
    const user = await User.query(trx).findById(contact.user_id)
    if (!user) throw new Error(`user ${contact.user_id} of contact ${contact.id} not found`)
    const now = this.ctx.clock.now()
    const { code, invited } = await this.#pendingWithCode(trx, contact, now)
    // A text to a stranger that the user caused: refused once their text allowance is
    // spent, and then the whole contact change is refused (a 429) so nothing half-done stays.
    const queued = await this.messaging.send(
      {
        to: contact.phone_number,
        text: consentTexts.invitation(user, code),
        userId: contact.user_id,
        key: contactInviteTextKey(contact.id, now),
        ref: contactInviteRef(contact.id),
        allowance: 'refusable'
      },
      trx
    )
    if (!queued) {
      throw new RateLimitedError(
        'the invitation text to this emergency contact cannot be sent: your texts for the last 24 hours ' +
          "(limits.textsPerUserPerDay) or the server's are used up; try again later",
        INVITE_RETRY_AFTER_SEC
      )
    }
    await this.ctx.events.record(trx, 'contact.invited', { userId: contact.user_id, contactId: contact.id })
    return invited
  }

  /**
   * `YES <code>` from a phone: the pending invitation of that phone with that code is
   * agreed. Returns the reply to the contact, or null when no pending invitation of this
   * phone has that code (nothing changes).
   */
  async agree(trx: Knex.Transaction, phone: string, code: string): Promise<string | null> {
    const contact = await Contact.query(trx).findOne({
      phone_number: phone,
      consent_state: 'pending',
      consent_code: code
    })
    if (!contact) return null
    const user = await this.#answer(trx, contact, 'agreed')
    return user ? consentTexts.agreedToContact(user) : null
  }

  /** STOP from a phone: every pending invitation of that phone is refused, and each user is told. Returns how many. */
  async refusePending(trx: Knex.Transaction, phone: string): Promise<number> {
    const pending = await Contact.query(trx).where({ phone_number: phone, consent_state: 'pending' })
    let refused = 0
    for (const contact of pending) if ((await this.#answer(trx, contact, 'refused')) !== false) refused += 1
    return refused
  }

  /**
   * A pending contact's answer: the conditional change from pending (false when another
   * answer won), its event, and the text telling the user. Returns the user, or null when
   * the user is gone (the answer still counts).
   */
  async #answer(trx: Knex.Transaction, contact: Contact, answer: 'agreed' | 'refused'): Promise<User | null | false> {
    const now = this.ctx.clock.now()
    const changed = await Contact.query(trx)
      .where({ id: contact.id, consent_state: 'pending' })
      .patch({ consent_state: answer, consent_code: null, consent_at: now })
    if (changed !== 1) return false
    await this.ctx.events.record(trx, answer === 'agreed' ? 'contact.agreed' : 'contact.refused', {
      userId: contact.user_id,
      contactId: contact.id
    })
    const user = await User.query(trx).findById(contact.user_id)
    if (!user) return null
    await this.messaging.send(
      {
        to: user.phone_number,
        text: answer === 'agreed' ? consentTexts.agreedToUser(contact) : consentTexts.refusedToUser(contact),
        userId: user.id,
        key: contactConsentTextKey(contact.id, answer, now)
      },
      trx
    )
    return user
  }

  /** Marks the contact pending with a free code; a code taken by another invitation at the same moment is drawn again. */
  async #pendingWithCode(
    trx: Knex.Transaction,
    contact: Contact,
    now: number
  ): Promise<{ code: string; invited: Contact }> {
    for (let attempt = 0; ; attempt++) {
      const code = await this.#freeCode(trx, contact.phone_number)
      try {
        // A savepoint: the unique (phone_number, consent_code) index refuses a code taken concurrently.
        const invited: Contact = await inSavepoint(
          trx,
          async (savepoint) =>
            await Contact.query(savepoint).patchAndFetchById(contact.id, {
              consent_state: 'pending',
              consent_code: code,
              invited_at: now,
              consent_at: null
            })
        )
        return { code, invited }
      } catch (err) {
        if (attempt >= 5 || uniqueViolationColumn(err) === null) throw err
      }
    }
  }

  /**
   * A code no pending invitation of this phone holds, nor an open alarm this phone could
   * answer (a `YES 17` is tried as an alarm's code first).
   */
  async #freeCode(trx: Knex.Transaction, phone: string): Promise<string> {
    const pendingCodes: Array<{ consent_code: string | null }> = await trx('contacts')
      .select('consent_code')
      .where({ phone_number: phone, consent_state: 'pending' })
    const alarmCodes: Array<{ open_code: string | null }> = await trx('alarms')
      .select('open_code')
      .whereNotNull('open_code')
      .where((q) =>
        q
          .where({ user_phone: phone })
          .orWhereIn('id', trx('alarm_contacts').select('alarm_id').where({ phone_number: phone }))
      )
    const taken = new Set([...pendingCodes.map((r) => r.consent_code), ...alarmCodes.map((r) => r.open_code)])
    for (let digits = FIRST_CODE_DIGITS; digits <= MAX_CODE_DIGITS; digits++) {
      for (let i = 0; i < TRIES_PER_LENGTH; i++) {
        const code = String(randomInt(10 ** (digits - 1), 10 ** digits))
        if (!taken.has(code)) return code
      }
    }
    throw new Error(`no free consent code for ${phone}`)
  }
}
