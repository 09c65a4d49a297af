import type { Knex } from 'knex'
import type { Clock } from '../clock.js'
import { type Contact, EmergencyProbe, Probe, ProbeSettings, User } from '../db/models/index.js'
import { PROBE_STATUS_ID, PROBE_STATUS_NAMES } from '../domain/constants.js'
import type { Services } from '../services/index.js'
import { describeLocalDateTime, describeWhen } from '../util/quiet-hours.js'
import type {
  PluginCheckInState,
  PluginContact,
  PluginContacts,
  PluginProbe,
  PluginProbes,
  PluginUser,
  PluginUsers
} from './facades.js'

/** What the facades over Kronus's own records are built from. */
export interface CoreFacadeDeps {
  knex: Knex
  clock: Clock
  services: Services
}

function userView(user: User): PluginUser {
  return {
    id: user.id,
    first_name: user.first_name,
    last_name: user.last_name,
    email: user.email,
    phone_number: user.phone_number
  }
}

function contactView(contact: Contact): PluginContact {
  const { id, user_id, first_name, last_name, phone_number, email, is_emergency_contact } = contact
  return {
    id,
    user_id,
    first_name,
    last_name,
    phone_number,
    email,
    is_emergency_contact: Boolean(is_emergency_contact)
  }
}

function probeView(probe: Probe): PluginProbe {
  const status = PROBE_STATUS_NAMES.find((name) => PROBE_STATUS_ID[name] === Number(probe.probe_status_id))
  if (!status) throw new Error(`probe ${probe.id} has an unknown status id ${probe.probe_status_id}`)
  return { id: probe.id, user_id: probe.user_id, status }
}

export function pluginUsers({ knex, clock }: CoreFacadeDeps): PluginUsers {
  return {
    find: async (userId, trx) => {
      const user = await User.query(trx ?? knex).findById(userId)
      return user ? userView(user) : null
    },
    setTextsOptedOut: async (userId, optedOut, trx) => {
      await (trx ?? knex)('users')
        .where({ id: userId })
        .update({ sms_opted_out_at: optedOut ? clock.now() : null })
    }
  }
}

/** The user's check-in state after a pause or resume, in their zone. */
function checkInState(services: Services, clock: Clock, settings: ProbeSettings): PluginCheckInState {
  const zone = services.probeSettings.timeZoneOf(settings)
  const now = clock.now()
  const next = services.probeSettings.nextCheckIn(settings)
  const paused = settings.paused_until !== null && settings.paused_until > now
  return {
    pausedUntil: paused ? describeLocalDateTime(settings.paused_until!, zone) : null,
    nextCheckIn: next === null ? null : describeWhen(next, now, zone),
    active: settings.active
  }
}

export function pluginContacts({ services }: CoreFacadeDeps): PluginContacts {
  return {
    emergencyContacts: async (userId, trx) => (await services.contacts.emergencyContacts(userId, trx)).map(contactView)
  }
}

export function pluginProbes({ knex, clock, services }: CoreFacadeDeps): PluginProbes {
  return {
    find: async (probeId, trx) => {
      const probe = await Probe.query(trx ?? knex).findById(probeId)
      return probe ? probeView(probe) : null
    },
    isActive: async (userId, trx) =>
      Boolean((await ProbeSettings.query(trx ?? knex).findOne({ user_id: userId }))?.active),
    setActive: async (userId, active, trx) => {
      await services.probeSettings.update(userId, { active }, trx)
    },
    pause: async (userId, request, trx) =>
      checkInState(services, clock, await services.probeSettings.pause(userId, request, trx)),
    resume: async (userId, trx) => {
      const { outcome, settings } = await services.probeSettings.resume(userId, trx)
      return { outcome, ...checkInState(services, clock, settings) }
    },
    requestOnDemand: async (userId, request, trx) => {
      const { startsAt, merged, checkInWaiting } = await services.probes.requestOnDemand(userId, request, trx)
      return { startsAt, merged, checkInWaiting }
    },
    isContactAlerted: async (probeId, contactId, trx) =>
      (await EmergencyProbe.query(trx ?? knex).findOne({ probe_id: probeId, contact_id: contactId })) !== undefined,
    recordContactAlerted: async (probeId, contactId, trx) => {
      const now = clock.now()
      const link = await EmergencyProbe.query(trx ?? knex).insertAndFetch({
        probe_id: probeId,
        contact_id: contactId,
        created_at: now,
        updated_at: now
      })
      return link.id
    }
  }
}
