import type { Knex } from 'knex'
import type { PluginContext, RecordedEvent } from 'kronus'
import { emergencyTexts, fullName } from './texts.js'

export const DELIVERIES = 'emergency_alert_deliveries'

/** The messaging key of one alert: while it waits to be sent, it cannot be queued twice. */
export const alertKey = (probeId: number, contactId: number | 'user') => `emergency:${probeId}:${contactId}`

/** Probes are turned off after an alert, as the first Kronus did: someone has to look first. */
async function turnProbesOff(kronus: PluginContext, userId: number, trx: Knex.Transaction): Promise<void> {
  if (await kronus.probes.isActive(userId, trx)) await kronus.probes.setActive(userId, false, trx)
}

async function alreadyUnreachable(kronus: PluginContext, userId: number, probeId: number): Promise<boolean> {
  const recorded = await kronus.events.list({ type: 'emergency-contact.unreachable', userId, limit: 1000 })
  return recorded.some((event) => event.payload.probeId === probeId)
}

/**
 * emergency.triggered: texts every emergency contact, in the order they were marked, and
 * records an emergency probe and a pending delivery for each, in one transaction. A
 * contact who already has an emergency probe for this probe was texted by an earlier run
 * of this handler, so a retry never texts anyone twice.
 */
export async function alertEmergencyContacts(
  kronus: PluginContext,
  event: RecordedEvent<'emergency.triggered'>
): Promise<void> {
  const { userId, probeId, status } = event.payload
  // Read before the transaction: the event log is not read through it.
  const reportedUnreachable = await alreadyUnreachable(kronus, userId, probeId)
  await kronus.db.transaction(async (trx) => {
    const user = await kronus.users.find(userId, trx)
    const probe = await kronus.probes.find(probeId, trx)
    if (!user || !probe) {
      kronus.logger.warn({ userId, probeId }, 'emergency for a user or probe that no longer exists: nobody to alert')
      return
    }
    const contacts = await kronus.contacts.emergencyContacts(userId, trx)
    await turnProbesOff(kronus, userId, trx)

    if (contacts.length === 0) {
      if (reportedUnreachable) return
      await kronus.events.record(trx, 'emergency-contact.unreachable', {
        userId,
        probeId,
        status,
        reason: 'no_emergency_contact',
        contacts: []
      })
      kronus.logger.error({ userId, probeId, status }, 'EMERGENCY NOT RELAYED: the user has no emergency contact')
      await kronus.messaging.send(
        { to: user.phone_number, text: emergencyTexts.toUserNoContact(), userId, key: alertKey(probeId, 'user') },
        trx
      )
      return
    }

    const alerted: number[] = []
    const now = kronus.clock.now()
    for (const contact of contacts) {
      if (await kronus.probes.isContactAlerted(probeId, contact.id, trx)) continue
      const emergencyProbeId = await kronus.probes.recordContactAlerted(probeId, contact.id, trx)
      const text = emergencyTexts.toContact(status, contact, user)
      await kronus.db.table(DELIVERIES, trx).insert({
        emergency_probe_id: emergencyProbeId,
        probe_id: probeId,
        user_id: userId,
        contact_name: fullName(contact),
        phone_number: contact.phone_number,
        text,
        status: 'sending',
        error: null,
        created_at: now,
        updated_at: now
      })
      await kronus.messaging.send({ to: contact.phone_number, text, userId, key: alertKey(probeId, contact.id) }, trx)
      alerted.push(contact.id)
    }
    if (alerted.length > 0) {
      await kronus.events.record(trx, 'emergency-contact.alerted', { userId, probeId, status, contactIds: alerted })
      kronus.logger.warn({ userId, probeId, status, contacts: alerted.length }, 'emergency contacts are being alerted')
    }
  })
}
