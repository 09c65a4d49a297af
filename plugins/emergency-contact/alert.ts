import type { PluginContext, RecordedEvent } from 'kronus'

/** The history table of the first Kronus's alerts (kept, with its rows; no longer written). */
export const DELIVERIES = 'emergency_alert_deliveries'

/**
 * alarm.raised for a probe: the probe's emergency probes (one per alerted contact, what
 * GET /v1/probes lists) and the plugin's `emergency-contact.alerted` event as the first
 * Kronus recorded them, or `emergency-contact.unreachable` when the user has no emergency
 * contact. A redelivered event records nothing twice. A duress alarm records nothing.
 */
export async function recordAlerted(kronus: PluginContext, event: RecordedEvent<'alarm.raised'>): Promise<void> {
  const { userId, probeId, contactIds, trigger } = event.payload
  // A duress reply ended its probe as good, and its alarm is never shown to the user (who
  // reads their probes and events): recording it as a bad probe's alert would show it.
  if (probeId === null || trigger === 'duress') return
  const status = trigger === 'no_answer' ? 'unavailable' : 'bad'
  await kronus.db.transaction(async (trx) => {
    const probe = await kronus.probes.find(probeId, trx)
    if (!probe) return
    if (contactIds.length === 0) {
      await kronus.events.record(trx, 'emergency-contact.unreachable', {
        userId,
        probeId,
        status,
        reason: 'no_emergency_contact',
        contacts: []
      })
      return
    }
    const recorded: number[] = []
    for (const contactId of contactIds) {
      if (await kronus.probes.isContactAlerted(probeId, contactId, trx)) continue
      await kronus.probes.recordContactAlerted(probeId, contactId, trx)
      recorded.push(contactId)
    }
    if (recorded.length > 0)
      await kronus.events.record(trx, 'emergency-contact.alerted', { userId, probeId, status, contactIds: recorded })
  })
}
