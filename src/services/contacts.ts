import type { Knex } from 'knex'
import { uniqueViolationColumn } from '../db/errors.js'
import { Contact, ProbeSettings } from '../db/models/index.js'
import { type Page, paginate } from '../db/paging.js'
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js'
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

export class ContactService {
  constructor(private readonly ctx: ServiceContext) {}

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
        return contact
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
        return updated
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

  /** Active probes with nobody to alert would fail silently, so the last emergency contact stays while probes are on. */
  private async assertNotLastEmergencyContact(userId: number, trx: Knex.Transaction): Promise<void> {
    // The same row lock ProbeSettingsService.update takes: these checks and a switch-on run one at a time.
    const settings = await ProbeSettings.query(trx).findOne({ user_id: userId }).forUpdate()
    if (!settings?.active) return
    const emergency = await this.emergencyContacts(userId, trx)
    if (emergency.length <= 1) {
      throw new ForbiddenError(
        'this is the last emergency contact and probes are on: turn probes off or mark another emergency contact first'
      )
    }
  }
}
