import type { Knex } from 'knex'
import { uniqueViolationColumn } from '../db/errors.js'
import { Contact, ProbeSettings, User } from '../db/models/index.js'
import { type Page, paginate } from '../db/paging.js'
import { ConflictError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../domain/errors.js'
import { refusedPhoneRange } from '../domain/phone-ranges.js'
import { PROBE_JOBS } from '../probes/jobs.js'
import type { ContactConsent } from './contact-consent.js'
import { inTransaction, type ServiceContext } from './context.js'

export interface NewContact {
  first_name: string
  last_name: string
  phone_number: string
  email?: string | null
  is_emergency_contact?: boolean
}

export type ContactPatch = Partial<NewContact>

function duplicateError(err: unknown): never {
  if (uniqueViolationColumn(err) === 'phone_number')
    throw new ConflictError("phone_number is already one of this user's contacts")
  throw err
}

/** How often a user may text the same contact their invitation again. */
export const REINVITE_INTERVAL_MS = 24 * 3600_000

export class ContactService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly consent: ContactConsent
  ) {}

  async list(userId: number, page: number, trx?: Knex.Transaction): Promise<Page<Contact>> {
    return paginate(
      Contact.query(trx ?? this.ctx.knex)
        .where({ user_id: userId })
        .orderBy('id'),
      page
    )
  }

  /** Emergency contacts in the order they were marked: the order in which they are alerted. */
  async emergencyContacts(userId: number, trx?: Knex.Transaction): Promise<Contact[]> {
    return Contact.query(trx ?? this.ctx.knex)
      .where({ user_id: userId, is_emergency_contact: true })
      .orderBy([{ column: 'emergency_marked_at' }, { column: 'id' }])
  }

  /** Whether one of the user's emergency contacts agreed to be one: check-ins can be turned on. */
  async hasAgreedEmergencyContact(userId: number, trx?: Knex.Transaction): Promise<boolean> {
    const agreed = await Contact.query(trx ?? this.ctx.knex)
      .findOne({ user_id: userId, is_emergency_contact: true, consent_state: 'agreed' })
      .select('id')
    return agreed !== undefined
  }

  async get(userId: number, id: number, trx?: Knex.Transaction): Promise<Contact> {
    const contact = await Contact.query(trx ?? this.ctx.knex).findOne({ id, user_id: userId })
    if (!contact) throw new NotFoundError(`contact ${id} not found`)
    return contact
  }

  async create(userId: number, input: NewContact, trx?: Knex.Transaction): Promise<Contact> {
    const now = this.ctx.clock.now()
    const emergency = input.is_emergency_contact === true
    try {
      return await inTransaction(this.ctx.knex, trx, async (trx) => {
        await this.assertCanBeContact(userId, input.phone_number, trx)
        if (emergency) await this.assertRoomForEmergencyContact(userId, trx)
        const contact = await Contact.query(trx).insertAndFetch({
          user_id: userId,
          first_name: input.first_name,
          last_name: input.last_name,
          phone_number: input.phone_number,
          email: input.email || null,
          is_emergency_contact: emergency,
          emergency_marked_at: emergency ? now : null,
          created_at: now,
          updated_at: now
        })
        await this.ctx.events.record(trx, 'contact.created', {
          userId,
          contactId: contact.id,
          isEmergencyContact: emergency
        })
        return emergency ? await this.consent.invite(trx, contact) : contact
      })
    } catch (err) {
      return duplicateError(err)
    }
  }

  async update(userId: number, id: number, patch: ContactPatch, trx?: Knex.Transaction): Promise<Contact> {
    const fields: Partial<Contact> = {}
    for (const key of ['first_name', 'last_name', 'phone_number'] as const) {
      if (patch[key] !== undefined) fields[key] = patch[key]
    }
    if (patch.email !== undefined) fields.email = patch.email || null
    if (patch.is_emergency_contact !== undefined) fields.is_emergency_contact = patch.is_emergency_contact
    if (Object.keys(fields).length === 0) {
      throw new ValidationError(
        'no updatable field given (first_name, last_name, phone_number, email, is_emergency_contact)'
      )
    }
    const changed = Object.keys(fields)
    try {
      return await inTransaction(this.ctx.knex, trx, async (trx) => {
        const current = await this.get(userId, id, trx)
        const newNumber = fields.phone_number !== undefined && fields.phone_number !== current.phone_number
        if (newNumber) {
          await this.assertCanBeContact(userId, fields.phone_number!, trx)
          // Whoever agreed, agreed for their own phone: a new number is asked again.
          Object.assign(fields, { consent_state: null, consent_code: null, invited_at: null, consent_at: null })
        }
        if (fields.is_emergency_contact === true && !current.is_emergency_contact) {
          await this.assertRoomForEmergencyContact(userId, trx)
          fields.emergency_marked_at = this.ctx.clock.now()
        }
        if (fields.is_emergency_contact === false && current.is_emergency_contact) {
          await this.assertNotLastEmergencyContact(userId, trx)
          fields.emergency_marked_at = null
        }
        fields.updated_at = this.ctx.clock.now()
        const updated = await Contact.query(trx).patchAndFetchById(id, fields)
        await this.ctx.events.record(trx, 'contact.updated', { userId, contactId: id, fields: changed })
        // A contact newly marked, or an emergency contact with a new number, is asked (once) to agree.
        const mustAsk = updated.is_emergency_contact && (newNumber || updated.consent_state === null)
        return mustAsk ? await this.consent.invite(trx, updated) : updated
      })
    } catch (err) {
      return duplicateError(err)
    }
  }

  async delete(userId: number, id: number, trx?: Knex.Transaction): Promise<Contact> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const contact = await this.get(userId, id, trx)
      if (contact.is_emergency_contact) await this.assertNotLastEmergencyContact(userId, trx)
      await Contact.query(trx).deleteById(id)
      await this.ctx.events.record(trx, 'contact.deleted', { userId, contactId: id })
      return contact
    })
  }

  /**
   * Texts an emergency contact who has not agreed their invitation again, with a new code:
   * at most once per REINVITE_INTERVAL_MS, so it cannot become a way to pester someone.
   */
  async reinvite(userId: number, id: number, trx?: Knex.Transaction): Promise<Contact> {
    return inTransaction(this.ctx.knex, trx, async (trx) => {
      const contact = await this.get(userId, id, trx)
      if (!contact.is_emergency_contact)
        throw new ConflictError('this contact is not an emergency contact: only emergency contacts are invited')
      if (contact.consent_state === 'agreed') throw new ConflictError('this contact has already agreed')
      if (contact.sms_opted_out_at !== null)
        throw new ConflictError('this contact texted STOP: Kronus cannot text them until they text START')
      const now = this.ctx.clock.now()
      const nextAllowed = (contact.invited_at ?? 0) + REINVITE_INTERVAL_MS
      if (contact.invited_at !== null && now < nextAllowed) {
        throw new RateLimitedError(
          'this contact was invited less than 24 hours ago: an invitation can be sent again once a day',
          Math.ceil((nextAllowed - now) / 1000)
        )
      }
      return this.consent.invite(trx, contact)
    })
  }

  /**
   * A contact is someone else's phone, and one that can receive texts: the user's own
   * number would alert the person in trouble, and a premium-rate or non-mobile number
   * (src/domain/phone-ranges.ts) would cost money or never get the text.
   */
  private async assertCanBeContact(userId: number, phoneNumber: string, trx: Knex.Transaction): Promise<void> {
    const user = await User.query(trx).findById(userId).select('phone_number')
    if (user?.phone_number === phoneNumber) {
      throw new ValidationError(
        '"phone_number" is your own phone number: an emergency contact must be someone else, who can check on you'
      )
    }
    const refused = refusedPhoneRange(phoneNumber)
    if (refused) throw new ValidationError(`"phone_number" ${refused}`)
  }

  /**
   * Every emergency contact is alerted when an alarm is raised, so one user's alarm must not
   * become hundreds of texts ahead of everyone else's: a user has at most
   * `limits.contactsPerUser` of them. Contacts that are not emergency contacts are not counted.
   */
  private async assertRoomForEmergencyContact(userId: number, trx: Knex.Transaction): Promise<void> {
    // The same row lock as below: two contacts marked at once cannot both take the last place.
    await ProbeSettings.query(trx).findOne({ user_id: userId }).forUpdate()
    const limit = this.ctx.config.limits.contactsPerUser
    const [row] = (await trx('contacts')
      .where({ user_id: userId, is_emergency_contact: true })
      .count({ n: '*' })) as Array<{ n: number | string }>
    if (Number(row?.n ?? 0) >= limit) {
      throw new ValidationError(
        `"is_emergency_contact": a user may have at most ${limit} emergency contacts (limits.contactsPerUser); ` +
          'unmark or delete one first'
      )
    }
  }

  /**
   * A check-in or an alarm with nobody to alert would fail silently, so the last emergency
   * contact stays while a check-in waits for an answer (or an on-demand one for its time),
   * while an alarm is open (409: it passes), and while probes are on (403: turn them off).
   */
  private async assertNotLastEmergencyContact(userId: number, trx: Knex.Transaction): Promise<void> {
    // The same row lock ProbeSettingsService.update takes: these checks and a switch-on run one at a time.
    const settings = await ProbeSettings.query(trx).findOne({ user_id: userId }).forUpdate()
    const emergency = await this.emergencyContacts(userId, trx)
    if (emergency.length > 1) return
    const busy = await this.#waitingOnContacts(userId, trx)
    if (busy) {
      throw new ConflictError(
        `this is the last emergency contact and ${busy}: mark another emergency contact first, or try again once it is over`
      )
    }
    if (settings?.active) {
      throw new ForbiddenError(
        'this is the last emergency contact and probes are on: turn probes off or mark another emergency contact first'
      )
    }
  }

  /** What would alert the emergency contacts now or soon, in words; null when nothing. */
  async #waitingOnContacts(userId: number, trx: Knex.Transaction): Promise<string | null> {
    const alarm = await trx('alarms').where({ user_id: userId }).whereNotNull('open_code').first('id')
    if (alarm) return 'an alarm is open'
    const probe = await trx('probes').where({ pending_user_id: userId }).first('id')
    if (probe) return 'a check-in is waiting for an answer'
    const onDemand = await trx('jobs')
      .where({ name: PROBE_JOBS.startOnDemand, user_id: userId })
      .whereIn('status', ['scheduled', 'enqueued', 'in-progress'])
      .first('id')
    if (onDemand) return 'an on-demand check-in is waiting for its time'
    return null
  }
}
